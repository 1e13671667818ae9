"""Admin: rankings and bulletins are read-only records (made by the services, never edited)."""

from django.contrib import admin

from .models import Bulletin, Ranking, RankingEntry, RankingPolicy


class RankingEntryInline(admin.TabularInline):
    model = RankingEntry
    fields = ["unit", "rank", "score", "eligible", "flag", "sample"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["rank"]


@admin.register(Ranking)
class RankingAdmin(admin.ModelAdmin):
    list_display = ["month", "tier", "status", "min_sample", "computed_at", "published_at", "published_by"]
    list_filter = ["status", "tier"]
    inlines = [RankingEntryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "period_start", "period_end", "generated_at"]
    list_filter = ["kind"]
    readonly_fields = [
        "kind",
        "period_start",
        "period_end",
        "title",
        "summary",
        "content",
        "generated_at",
        "generated_by",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(RankingPolicy)
class RankingPolicyAdmin(admin.ModelAdmin):
    """Weights and thresholds used by the next computation of the red/black lists."""

    list_display = ["__str__", "min_sample", "list_size", "is_active", "updated_at"]
    list_filter = ["is_active"]
