import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from households.models import Dwelling, Household, Village
from housing_safety.access import Role, scope_of


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_marks_its_data():
    call_command("seed_demo", households=24)
    counts = (Household.objects.count(), Dwelling.objects.count(), Village.objects.count(), User.objects.count())
    history = Household.history.count()
    call_command("seed_demo", households=24)
    assert (
        Household.objects.count(),
        Dwelling.objects.count(),
        Village.objects.count(),
        User.objects.count(),
    ) == counts
    assert Household.history.count() == history
    # The households asked for, and the base villages' households not yet registered that the survey visits (one
    # of them registered by it: inspections.base_village_demo, whose note marks them).
    surveyed = Household.objects.filter(notes__startswith="基点村排查对象").count()
    assert counts[0] == 24 + surveyed and surveyed == 10 and counts[1] >= 24
    assert not Village.objects.filter(is_demo=False).exists()
    assert all(v.name.endswith("（演示）") for v in Village.objects.all())
    assert Household.objects.filter(village__township__isnull=True).count() == 0
    assert len({h.village.township_id for h in Household.objects.select_related("village")}) == 16


@pytest.mark.django_db
def test_seed_demo_creates_one_user_per_role_with_a_working_scope(capsys):
    call_command("seed_demo", households=16)
    output = capsys.readouterr().out
    roles = {
        User.objects.get(username=name).profile.role
        for name in ("admin", "official", "xinqiao", "liaison", "clerk", "helper")
    }
    assert roles == set(Role.values)
    assert "xinqiao" in output and "Zhangping-demo-2026" in output
    xinqiao = User.objects.get(username="xinqiao")
    assert scope_of(xinqiao).township_ids == {
        Village.objects.get(name="东坑村（演示）", township__code="350881100").township_id
    }
    assert User.objects.get(username="helper").helped_households.exists()


@pytest.mark.django_db
def test_seed_demo_keeps_its_mail_out_of_the_output_and_prints_the_logins_last(
    settings, tmp_path, capsys, django_capture_on_commit_callbacks
):
    """The laptop's e-mail: files in a folder (tmp-mail), not base64 on the console before the logins."""
    from housing_safety.models import OutgoingEmail

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")

    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        call_command("seed_demo", households=16)

    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines[-7:]] == [
        "admin",
        "official",
        "xinqiao",
        "shuangyang",
        "liaison",
        "clerk",
        "helper",
    ]
    assert "Zhangping-demo-2026" in lines[-8]
    assert not any("Content-Type" in line or "base64" in line for line in lines)
    assert OutgoingEmail.objects.exists()  # the monthly report is in the outbox
    mail = [path.read_text() for path in (tmp_path / "mail").iterdir()]
    # Every message is a file: the monthly report (with its workbook and chart) and the notices the demo's records
    # send now that its townships and accounts have addresses (a helper's report, a complaint's assignment).
    assert len(mail) == OutgoingEmail.objects.count() > 1
    assert any("Content-Type: multipart" in text for text in mail)


@pytest.mark.django_db
def test_the_demos_townships_and_accounts_can_be_notified():
    """Every township government and demo account has an address, so the demo's notices and e-mails reach someone;
    the units nobody can be notified at are only departments without a liaison, shown on the admin's home."""
    from households.models import Unit
    from households.selectors import units_nobody_can_receive

    call_command("seed_demo", households=16)
    assert not Unit.objects.filter(kind=Unit.Kind.TOWNSHIP, email="").exists()
    assert all(u.email.endswith("@zhangping.example.gov.cn") for u in Unit.objects.filter(kind=Unit.Kind.TOWNSHIP))
    assert Unit.objects.get(township__code="350881100").email == "xinqiao@zhangping.example.gov.cn"
    assert not User.objects.filter(email="").exists()
    assert User.objects.get(username="xinqiao").email == "xinqiao@zhangping.example.gov.cn"
    assert {unit.kind for unit in units_nobody_can_receive()} <= {Unit.Kind.DEPARTMENT}
