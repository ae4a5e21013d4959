"""Forms of single sign-on's pages: parsing and per-field errors; the checks are the flows'
(clients.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.oidc import clients, keys
from zorgsleutel.oidc.models import DEFAULT_SCOPES, Client
from zorgsleutel.people.models import Organisation

# What each scope an operator may allow gives the application (`openid` always: not a choice).
SCOPE_CHOICES = [
    ("profile", _("profile: the person's name")),
    ("email", _("email: the e-mail address")),
    ("roles", _("roles: the role and application roles in the organisation")),
    ("dezi", _("dezi: the UZI card's Dezi claims (UZI number, URA, role)")),
]

ASSURANCE = [
    ("low", _("low: password and SMS code")),
    ("substantial", _("substantial: the Zorgsleutel app")),
    ("high", _("high: a smartcard or UZI card")),
]


class ClientForm(forms.Form):
    """Operatorconsole → Single sign-on → Register an application."""

    name = forms.CharField(
        label=_("Name"),
        help_text=_("As people and administrators will read it. For example Declaratieportaal."),
        max_length=200,
        required=False,
    )
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"),
        help_text=_(
            "One per line, exactly as the application sends them: the address people return to "
            "after logging in. For example https://declaraties.example.nl/oidc/callback."
        ),
        max_length=6000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60, "spellcheck": "false"}),
    )
    backchannel_logout_uri = forms.CharField(
        label=_("Back-channel logout URI (optional)"),
        help_text=_(
            "Where Zorgsleutel tells the application that a person logged out (OpenID Connect "
            "Back-Channel Logout). For example https://declaraties.example.nl/oidc/logout."
        ),
        max_length=500,
        required=False,
    )
    post_logout_redirect_uris = forms.CharField(
        label=_("Addresses after logout (optional)"),
        help_text=_(
            "The post_logout_redirect_uri values the application may send, one per line, exactly "
            "as it sends them: where people return to after logging out through the application."
        ),
        max_length=6000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60, "spellcheck": "false"}),
    )
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations"),
        help_text=_("The application receives only active members of these organisations."),
        queryset=Organisation.objects.order_by("name", "pk"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose organisations from the list.")},
    )
    allowed_scopes = forms.MultipleChoiceField(
        label=_("What the application may receive"),
        help_text=_(
            "Besides the identifier, the organisation and how the person logged in (scope "
            "openid), which it always receives. A request for anything else is ignored."
        ),
        choices=SCOPE_CHOICES,
        initial=[scope for scope in DEFAULT_SCOPES if scope != "openid"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose scopes from the list.")},
    )
    minimum_acr = forms.ChoiceField(
        label=_("Minimum level of assurance"),
        help_text=_("Every login to the application must reach at least this level."),
        choices=ASSURANCE,
        initial="low",
        required=False,
        widget=forms.RadioSelect,
    )
    subject_type = forms.ChoiceField(
        label=_("Identifier of a person (sub)"),
        choices=Client.SUBJECT_TYPES,
        initial=Client.PAIRWISE,
        required=False,
        widget=forms.RadioSelect,
    )

    url = forms.CharField(
        label=_("Address of the application"),
        help_text=_(
            "Optional. Shown when people are asked for their consent. For example "
            "https://declaraties.example.nl."
        ),
        max_length=400,
        required=False,
    )
    logo = forms.FileField(
        label=_("Logo"),
        help_text=_(
            "Optional. A PNG or JPEG image, square, of at most 200 KB; shown when people are "
            "asked for their consent."
        ),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )
    id_token_algorithm = forms.ChoiceField(
        label=_("ID token signature"),
        help_text=_("RS256 unless the application asks for ES256."),
        choices=[(algorithm, algorithm) for algorithm in keys.ALGORITHMS],
        initial=keys.RS256,
        required=False,
        widget=forms.RadioSelect,
    )
    token_endpoint_auth_method = forms.ChoiceField(
        label=_("Client authentication"),
        help_text=_(
            "How the application proves who it is when it fetches tokens: with a client secret "
            "(shown once), or with a JWT signed by its own private key (private_key_jwt)."
        ),
        choices=Client.AUTH_METHODS,
        initial=Client.CLIENT_SECRET,
        required=False,
        widget=forms.RadioSelect,
    )
    jwks = forms.CharField(
        label=_("Public keys (JWKS, for private_key_jwt)"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60, "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jwks"].help_text = _(
            'The application\'s public keys as JSON, {"keys": [...]}: RSA of at least %(bits)s '
            "bits or EC P-256, each with its kid, at most %(max)s keys. Never a private key."
        ) % {"bits": policies.OIDC_CLIENT_RSA_MIN_BITS, "max": policies.OIDC_CLIENT_JWKS_KEYS_MAX}

    def clean(self):
        data = super().clean()
        said = set(self.errors)
        try:
            clients.check_input(
                name=data.get("name", ""),
                redirect_uris=data.get("redirect_uris", ""),
                organisations=data.get("organisations") or [],
                minimum_acr=data.get("minimum_acr") or "",
                url=(data.get("url") or "").strip(),
                backchannel_logout_uri=data.get("backchannel_logout_uri", ""),
                post_logout_redirect_uris=data.get("post_logout_redirect_uris", ""),
                token_endpoint_auth_method=data.get("token_endpoint_auth_method")
                or Client.CLIENT_SECRET,
                jwks=data.get("jwks", ""),
            )
        except clients.DomainError as error:
            for one in getattr(error, "errors", [error]):
                if one.field not in said:
                    self.add_error(one.field, str(one.message))
        if not data.get("subject_type"):
            data["subject_type"] = Client.PAIRWISE
        if not data.get("token_endpoint_auth_method"):
            data["token_endpoint_auth_method"] = Client.CLIENT_SECRET
        if not data.get("id_token_algorithm"):
            data["id_token_algorithm"] = keys.RS256
        data["logo_bytes"] = None
        if data.get("logo") and "logo" not in self.errors:
            upload = data["logo"]
            if upload.size > policies.OIDC_LOGO_MAX_BYTES:  # not read into memory at all
                self.add_error("logo", str(clients.logo_refusal().message))
            else:
                raw = upload.read()
                try:
                    clients.logo_png(raw)  # register_client encodes it again: the same
                except clients.DomainError as error:
                    self.add_error("logo", str(error.message))
                else:
                    data["logo_bytes"] = raw
        return data

    def registration(self) -> dict:
        """What `clients.register_client` takes from this form (valid): the console and Beheer
        pass it whole, so a field added here reaches both (the organisations, the actor and
        the owner are the views' to say)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "redirect_uris": data["redirect_uris"],
            "minimum_acr": data["minimum_acr"],
            "subject_type": data["subject_type"],
            "url": data.get("url") or "",
            "logo": data.get("logo_bytes"),
            "id_token_algorithm": data["id_token_algorithm"],
            "backchannel_logout_uri": data["backchannel_logout_uri"],
            "post_logout_redirect_uris": data["post_logout_redirect_uris"],
            "allowed_scopes": data.get("allowed_scopes") or [],
            "token_endpoint_auth_method": data["token_endpoint_auth_method"],
            "jwks": data["jwks"],
        }


class OrganisationChoiceForm(forms.Form):
    """Which organisation the person acts for in this login (several may use the application)."""

    organisation = forms.ChoiceField(
        label=_("On behalf of which organisation do you log in?"),
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, memberships=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [
            (str(m.organisation.public_id), m.organisation.name) for m in memberships
        ]

    def clean_organisation(self):
        value = self.cleaned_data.get("organisation")
        if not value:
            raise forms.ValidationError(_("Choose an organisation."))
        return value


class OwnClientForm(ClientForm):
    """Beheer → Applicaties → Register an application: the console's form without the
    organisations. An organisation's own application is allowed for that organisation alone; a
    posted `organisations` field is no field here, so it is never read."""

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["organisations"]
        self.organisation = organisation

    def clean(self):
        self.cleaned_data["organisations"] = [self.organisation]
        return super().clean()
