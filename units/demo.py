"""Demo city: the bureau tree and the demo users of SPEC §11 (password ``demo12345``)."""

from __future__ import annotations

from .choices import Role, Tier
from .models import Unit, User

DEMO_PASSWORD = "demo12345"

CITY = ("LJ000", "临江市公安局", "市局")
DEPARTMENTS = [
    ("LJ010", "指挥中心"),
    ("LJ020", "交通警察支队"),
    ("LJ030", "人口管理支队"),
    ("LJ040", "法制支队"),
    ("LJ050", "督察支队"),
    ("LJ060", "治安管理支队"),
]
DISTRICTS = [
    ("LJ100", "江北分局", ["滨江派出所", "北湖派出所", "江北交警大队"]),
    ("LJ200", "江南分局", ["南门派出所", "新华派出所", "江南交警大队"]),
    ("LJ300", "高新区分局", ["科技园派出所", "湖滨派出所", "高新交警大队"]),
    ("LJ400", "临江县公安局", ["城关派出所", "河口派出所", "临江县交警大队"]),
]

# username, role, unit code, surname, given name
DEMO_USERS = [
    ("center", Role.CENTER_STAFF, "LJ000", "民", "坐席"),
    ("handler", Role.UNIT_HANDLER, "LJ101", "滨", "民警"),
    ("leader", Role.UNIT_LEADER, "LJ101", "滨", "所长"),
    ("handler2", Role.UNIT_HANDLER, "LJ102", "北", "民警"),
    ("supervisor", Role.SUPERVISOR, "LJ050", "督", "察"),
    ("admin", Role.ADMIN, "LJ000", "系统", "管理员"),
]


# Police rooms (警务室) under 滨江派出所, each with an officer, so a station leader's 转派 (sub-dispatch)
# can be tried: code, name, parent station, username, surname, given name. Loaded by the
# work-order demo, which also hands one order down to a room (the test cast stays the city tree).
POLICE_ROOMS = [
    ("LJ1011", "江滨社区警务室", "LJ101", "room1", "江", "社区民警"),
    ("LJ1012", "滨江街道警务室", "LJ101", "room2", "街", "社区民警"),
]


def _unit(code: str, name: str, tier: str, parent: Unit | None, order: int) -> Unit:
    unit, _ = Unit.objects.update_or_create(
        code=code,
        defaults={"name": name, "tier": tier, "parent": parent, "sort_order": order, "is_active": True},
    )
    return unit


def load(stdout=None) -> None:
    """Create or refresh the demo units and users; running it twice changes nothing."""
    city = _unit(CITY[0], CITY[1], Tier.CITY, None, 0)
    for i, (code, name) in enumerate(DEPARTMENTS):
        _unit(code, name, Tier.DEPARTMENT, city, 10 + i)
    for i, (code, name, stations) in enumerate(DISTRICTS):
        district = _unit(code, name, Tier.DISTRICT, city, 100 + i)
        for j, station in enumerate(stations, start=1):
            _unit(f"{code[:-1]}{j}", station, Tier.STATION, district, j)
    for username, role, unit_code, last, first in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username)
        user.role = role
        user.unit = Unit.objects.get(code=unit_code)
        user.last_name, user.first_name = last, first
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        if created or not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
        user.save()
    if stdout:
        stdout.write(f"units: {Unit.objects.count()} units, {len(DEMO_USERS)} demo users")


def load_police_rooms() -> list[Unit]:
    """The police rooms below 滨江派出所 and one handler each; running it twice changes nothing."""
    rooms = []
    for code, name, parent_code, username, last, first in POLICE_ROOMS:
        parent = Unit.objects.get(code=parent_code)
        room = _unit(code, name, Tier.STATION, parent, int(code[-1]))
        user, created = User.objects.get_or_create(username=username)
        user.role, user.unit = Role.UNIT_HANDLER, room
        user.last_name, user.first_name = last, first
        if created or not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
        user.save()
        rooms.append(room)
    return rooms
