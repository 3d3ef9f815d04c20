"""Django's migrate, connected as the owner role, then granting the app role what it needs (clinic/
database_roles.py): the schema's owner changes it; the role that serves requests never could."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from clinic.database_roles import as_owner, grant_app_role


class Command(DjangoMigrate):
    help = (
        DjangoMigrate.help + " Connects as the owner role (MIGRATION_DATABASE_URL) and grants the app role."
    )

    def handle(self, *args, **options):
        with as_owner(options["database"]):
            super().handle(*args, **options)
            if options["plan"] or options["check_unapplied"]:
                return
            app = grant_app_role(options["database"])
            if app and options["verbosity"] >= 1:
                self.stdout.write(
                    f"Granted the app role {app} row access (no DDL, no TRUNCATE, no triggers)."
                )
