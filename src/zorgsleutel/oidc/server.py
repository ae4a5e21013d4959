"""The oauthlib server single sign-on runs: the authorization code grant and its refreshes,
nothing else.

oauthlib's pre-configured OpenID Connect `Server` knows every grant (implicit, hybrid, password,
client credentials, device code, refresh) and lets the validator refuse the ones a client may
not use. This one is built without them: `response_type` other than `code` is
`unsupported_response_type` at the authorization endpoint and any `grant_type` other than
`authorization_code` and `refresh_token` is `unsupported_grant_type` at the token endpoint,
whatever a client's registration says. The code exchange and every refresh issue a refresh
token (rotation: validator.py); a refresh answers with a new ID token too (OpenID Connect's
refresh grant). Access tokens are bearer tokens only: an ID token is never accepted in their
place. Revocation takes access and refresh tokens (RFC 7009 2.1).
"""

from __future__ import annotations

from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    IntrospectEndpoint,
    ResourceEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.grant_types import AuthorizationCodeGrant as OAuth2CodeGrant
from oauthlib.oauth2.rfc6749.tokens import BearerToken
from oauthlib.openid.connect.core.endpoints.userinfo import UserInfoEndpoint
from oauthlib.openid.connect.core.grant_types import AuthorizationCodeGrant, RefreshTokenGrant
from oauthlib.openid.connect.core.grant_types.dispatchers import (
    AuthorizationCodeGrantDispatcher,
    AuthorizationTokenGrantDispatcher,
)


class Server(
    AuthorizationEndpoint,
    IntrospectEndpoint,
    TokenEndpoint,
    ResourceEndpoint,
    RevocationEndpoint,
    UserInfoEndpoint,
):
    def __init__(
        self,
        request_validator,
        token_expires_in=None,
        token_generator=None,
        refresh_token_generator=None,
        *args,
        **kwargs,
    ):
        # Without `openid` in the scope a request is plain OAuth; the validator refuses it.
        plain = OAuth2CodeGrant(request_validator)
        openid = AuthorizationCodeGrant(request_validator)
        refresh = RefreshTokenGrant(request_validator)
        self.bearer = BearerToken(
            request_validator, token_generator, token_expires_in, refresh_token_generator
        )
        AuthorizationEndpoint.__init__(
            self,
            default_response_type="code",
            response_types={
                "code": AuthorizationCodeGrantDispatcher(default_grant=plain, oidc_grant=openid)
            },
            default_token_type=self.bearer,
        )
        TokenEndpoint.__init__(
            self,
            default_grant_type="authorization_code",
            grant_types={
                "authorization_code": AuthorizationTokenGrantDispatcher(
                    request_validator, default_grant=plain, oidc_grant=openid
                ),
                "refresh_token": refresh,
            },
            default_token_type=self.bearer,
        )
        bearer = {"Bearer": self.bearer}
        ResourceEndpoint.__init__(self, default_token="Bearer", token_types=bearer)  # noqa: S106
        RevocationEndpoint.__init__(
            self, request_validator, supported_token_types=["access_token", "refresh_token"]
        )
        IntrospectEndpoint.__init__(self, request_validator, supported_token_types=["access_token"])
        UserInfoEndpoint.__init__(self, request_validator)
