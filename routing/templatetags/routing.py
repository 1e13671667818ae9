"""``{% routing_proposal appeal %}``: the proposal line anywhere an appeal is shown (e.g. the desk's
side panel), rendering ``routing/_proposal.html``."""

from django import template

register = template.Library()


@register.inclusion_tag("routing/_proposal.html")
def routing_proposal(appeal):
    from ..services import propose

    return {"proposal": propose(appeal) if appeal is not None else None}
