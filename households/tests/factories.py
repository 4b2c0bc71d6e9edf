from __future__ import annotations

import datetime
import io
import itertools

import factory
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from households import services
from households.identity import id_check_digit
from households.models import Dwelling, Household, HouseholdCategory, Township, Village

_serial = itertools.count(1)


def valid_id_number(born: datetime.date = datetime.date(1960, 5, 17), region: str = "350881") -> str:
    first17 = f"{region}{born:%Y%m%d}{next(_serial) % 1000:03d}"
    return first17 + id_check_digit(first17)


def township(code: str = "350881100") -> Township:
    return Township.objects.get(code=code)


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village

    township = factory.LazyFunction(township)
    name = factory.Sequence(lambda n: f"测试{n}村")


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household
        skip_postgeneration_save = True

    head_name = factory.Sequence(lambda n: f"户主{n}")
    id_number = factory.LazyFunction(valid_id_number)
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    village = factory.SubFactory(VillageFactory)
    members_count = 3

    @factory.post_generation
    def categories(self, create, extracted, **kwargs):
        if create:
            codes = extracted or ["registered_poor"]
            self.categories.set(HouseholdCategory.objects.filter(code__in=codes))


class DwellingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dwelling

    household = factory.SubFactory(HouseholdFactory)
    address = factory.Sequence(lambda n: f"{n % 9 + 1}组{n}号")
    structure_type = Dwelling.StructureType.EARTH_TIMBER
    storeys = 1
    year_built = 1985

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Like save_dwelling, keep the household's stored home state in step.
        dwelling = super()._create(model_class, *args, **kwargs)
        services.refresh_home_state(household_ids=[dwelling.household_id])
        return dwelling


def household_with_dwelling(township: Township, village_name: str) -> Household:
    """A household living in one dwelling, in a new village of that name in `township`."""
    household = HouseholdFactory(village=VillageFactory(township=township, name=village_name))
    DwellingFactory(household=household)
    return household


def make_user(role: str | None, *, username: str | None = None, townships=(), unit=None, superuser=False) -> User:
    """A user with a role and scope, made through the same service the admin uses."""
    user = User.objects.create_user(
        username=username or f"{role or 'nobody'}-{next(_serial)}", password="pw-123456789", is_superuser=superuser
    )
    if role:
        services.set_user_role(user=user, role=role, townships=townships, unit=unit)
    return User.objects.get(pk=user.pk)  # fresh instance: no cached permissions


def _image_bytes(fmt: str, size=(1, 1), **save) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (192, 48, 32)).save(buffer, fmt, **save)
    return buffer.getvalue()


def png_bytes() -> bytes:
    """A valid 1×1 RGB PNG, exactly as the upload's re-encoding writes it (so a stored photo equals what was sent)."""
    return _image_bytes("PNG")


def jpeg_bytes(**save) -> bytes:
    """A valid 1×1 JPEG, exactly as the upload's re-encoding writes it (pass exif=… to give it metadata)."""
    return _image_bytes("JPEG", quality=90, **save)


def png_file(name: str = "房屋正面.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")
