"""The sensitive-access log gets the client IP, the fields shown, a user that may be empty (an
export run from a shell) and its time from gridmap.core.clock; the auditor role; and the log
becomes append-only in the database: a statement trigger refuses every UPDATE and DELETE of
core_accesslog, whoever runs it (the app's role is not a superuser, and the owner is refused
too). TRUNCATE is not blocked: Django's flush between transactional tests (and `manage.py
flush`) empties the tables with one TRUNCATE of them all, and a BEFORE TRUNCATE trigger would
break every such test; TRUNCATE is a privilege the app's role needs only as the tables' owner.
A later migration that must rewrite rows drops the trigger, does it, and recreates it."""

import django.db.models.deletion
import gridmap.core.clock
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0003_field_labels'),
    ]

    operations = [
        migrations.AddField(
            model_name='accesslog',
            name='fields',
            field=models.CharField(blank=True, max_length=200, verbose_name='fields viewed'),
        ),
        migrations.AddField(
            model_name='accesslog',
            name='ip',
            field=models.GenericIPAddressField(blank=True, null=True, verbose_name='client IP'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='at',
            field=models.DateTimeField(db_index=True, default=gridmap.core.clock.now, editable=False, verbose_name='viewed at'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='object_id',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='record id'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='user',
            field=models.ForeignKey(blank=True, help_text='Empty for a command run outside the web (an export).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='viewed by'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='what',
            field=models.CharField(blank=True, max_length=200, verbose_name='where shown'),
        ),
        migrations.AlterField(
            model_name='user',
            name='role',
            field=models.CharField(choices=[('centre_admin', 'Centre administrator (中心管理员)'), ('area_staff', 'Area staff (街道/社区工作人员)'), ('grid_leader', 'Grid leader (网格长)'), ('grid_worker', 'Grid worker / patroller (网格员/巡查员)'), ('department', 'Department handler (职能部门)'), ('leader', 'Leader, read only (领导)'), ('auditor', 'Auditor (审计员)')], default='grid_worker', max_length=20, verbose_name='role'),
        ),
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(fields=['user', 'at'], name='core_access_user_id_bfcd07_idx'),
        ),
        migrations.RunSQL(
            sql=[
                """
                CREATE FUNCTION core_accesslog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'core_accesslog is append-only: % refused', TG_OP
                        USING ERRCODE = 'insufficient_privilege';
                END
                $$
                """,
                """
                CREATE TRIGGER core_accesslog_append_only
                    BEFORE UPDATE OR DELETE ON core_accesslog
                    FOR EACH STATEMENT EXECUTE FUNCTION core_accesslog_append_only()
                """,
            ],
            reverse_sql=[
                "DROP TRIGGER IF EXISTS core_accesslog_append_only ON core_accesslog",
                "DROP FUNCTION IF EXISTS core_accesslog_append_only()",
            ],
        ),
    ]
