"""Users, departments, memberships (user × place node × role) and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import ROLE_CAPABILITIES, Role
from shequ.core.models import TimeStampedModel


class Department(TimeStampedModel):
    """Department (职能部门): a city or street department that receives dispatched cases."""

    class Kind(models.TextChoices):
        URBAN_MANAGEMENT = "urban_management", _("城管执法")
        PUBLIC_SECURITY = "public_security", _("公安")
        MARKET_REGULATION = "market_regulation", _("市场监管")
        HOUSING = "housing", _("房管")
        CIVIL_AFFAIRS = "civil_affairs", _("民政")
        HEALTH = "health", _("卫健")
        ECOLOGY = "ecology", _("生态环境")
        FIRE = "fire", _("消防救援")
        HUMAN_RESOURCES = "human_resources", _("人社")
        DISABLED_PERSONS = "disabled_persons", _("残联")
        OTHER = "other", _("其他")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=32, choices=Kind.choices)
    place = models.ForeignKey("registry.Place", verbose_name=_("所属区域"), on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        constraints = [models.UniqueConstraint(fields=["place", "name"], name="department_unique_name")]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in: staff of any level or a resident."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("所属部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    person = models.OneToOneField(
        "registry.Person",
        verbose_name=_("对应居民"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    # The scope helpers read these; they are cached per user object (one request).
    def active_memberships(self) -> list[Membership]:
        cached = getattr(self, "_memberships_cache", None)
        if cached is None:
            cached = list(self.memberships.filter(active=True).select_related("place"))
            self._memberships_cache = cached
        return cached

    def scope_paths(self, capability: str | None = None) -> tuple[str, ...]:
        """Paths of the place nodes where the user holds a role (with ``capability``, if given)."""
        paths = {
            m.place.path
            for m in self.active_memberships()
            if capability is None or capability in ROLE_CAPABILITIES.get(m.role, frozenset())
        }
        # A path inside another is redundant: keep the outermost ones.
        return tuple(sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths)))

    def roles(self) -> set[str]:
        return {m.role for m in self.active_memberships()}

    def capabilities_at(self, path: str) -> frozenset[str]:
        caps: set[str] = set()
        for m in self.active_memberships():
            if path.startswith(m.place.path):
                caps |= ROLE_CAPABILITIES.get(m.role, frozenset())
        return frozenset(caps)

    def has_capability(self, capability: str) -> bool:
        return any(capability in ROLE_CAPABILITIES.get(m.role, frozenset()) for m in self.active_memberships())

    def resident_paths(self) -> tuple[str, ...]:
        """Where the user takes part as a resident: each resident membership's node and its community.

        A resident belongs to their compound (or building/unit) and also to the community above it:
        community-wide proposals, votes and notices concern them although the community node is not
        inside their membership's subtree.
        """
        paths: set[str] = set()
        for m in self.active_memberships():
            if m.role == Role.RESIDENT:
                paths.add(m.place.path)
                paths.add(m.place.path[:12])
        return tuple(sorted(paths))

    def is_verified_resident(self) -> bool:
        """A resident whose account is linked to their registry record (实名认证)."""
        return self.person_id is not None and any(m.role == Role.RESIDENT for m in self.active_memberships())

    def forget_memberships(self) -> None:
        self.__dict__.pop("_memberships_cache", None)


class Membership(TimeStampedModel):
    """Membership (任职/授权): a user holds a role at a place node and so sees its subtree."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships")
    place = models.ForeignKey(
        "registry.Place", verbose_name=_("区域"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    active = models.BooleanField(_("有效"), default=True)
    granted_by = models.ForeignKey(
        User, verbose_name=_("授权人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "place", "role"], condition=models.Q(active=True), name="membership_unique_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.place}"


class ApiToken(TimeStampedModel):
    """API token: only its SHA-256 digest is stored; the token is shown once when created."""

    user = models.ForeignKey(User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked = models.BooleanField(_("已撤销"), default=False)

    class Meta:
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
