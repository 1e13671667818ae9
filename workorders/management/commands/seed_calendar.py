"""Fill the working calendar from the chinese-calendar package (years it knows; admin entries kept)."""

from django.core.management.base import BaseCommand

from workorders.workdays import seed_known_years, seed_year


class Command(BaseCommand):
    help = "从 chinese-calendar 导入节假日与调休安排（管理员录入的日期保留不变）。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, action="append", help="只导入这一年（可重复）")
        parser.add_argument("--from-year", type=int, default=2004)

    def handle(self, *args, **options):
        if options["year"]:
            result = {y: seed_year(y) for y in options["year"]}
        else:
            result = seed_known_years(first=options["from_year"])
        for year, count in result.items():
            if count is None:
                self.stdout.write(self.style.WARNING(f"{year}: chinese-calendar 尚无该年数据，请管理员手工录入"))
            else:
                self.stdout.write(f"{year}: {count} 天")
