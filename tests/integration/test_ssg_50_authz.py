"""AuthType session-sign and the Require forms that work with it:
401 without a valid session (no WWW-Authenticate: no browser dialog),
403 for an identified user whom the Require lines refuse."""
import pytest

import support
from test_ssg_00_common import *  # noqa: F401,F403

# The [error] line httpd logs for each kind of refusal (acknowledged
# precisely; measured with 2.4.71):
#  Require user         -> AH01631 "user bob: authorization failure for ..."
#  Require expr using REMOTE_USER -> AH01629 "authorization failure (no
#      authenticated user)": the expr provider answers AUTHZ_DENIED_NO_USER
#      for ANY false expression that mentions REMOTE_USER, even with a user
#      (stock httpd then sends 401; our wrapper makes it 403)
#  Require session-attr -> AH01630 "client denied by server configuration"
AUTHZ_FAIL = r"\[authz_core:error\].*AH01631: user %s: authorization failure for \"/admin/\""
EXPR_FAIL = r"\[authz_core:error\].*AH01629: authorization failure \(no authenticated user\): /admin/"
ATTR_FAIL = r"\[authz_core:error\].*AH01630: client denied by server configuration: .*/htdocs/admin/"
ANY_FAIL = "|".join((AUTHZ_FAIL % r"\w+", EXPR_FAIL, ATTR_FAIL))


def _admin(require, extra=""):
    return site(extra="""
<Location /admin>
  AuthType session-sign
  %s
  Header always set X-User "expr=%%{REMOTE_USER}"
  %s
</Location>""" % (require, extra))


# ---------------------------------------------------------------- authn

def test_ssg_50_01_no_session_is_401_without_challenge_or_redirect(httpd):
    h = serve(httpd, site())
    st, hd, _ = send(h, "/app/")
    assert st == 401
    assert header(hd, "WWW-Authenticate") is None
    assert header(hd, "Location") is None
    assert header(hd, "X-User") == ""
    assert set_cookies(hd) == []


def test_ssg_50_02_valid_session_is_200_with_remote_user(httpd):
    h = serve(httpd, site())
    st, hd, body = send(h, "/app/", support.mint("user=alice"))
    assert st == 200 and body == b"app\n"
    assert header(hd, "X-User") == "alice"


def test_ssg_50_03_session_without_identity_is_401(httpd):
    h = serve(httpd, site())
    st, hd, _ = send(h, "/app/", support.mint("role=admin"))
    assert st == 401
    assert header(hd, "WWW-Authenticate") is None
    assert ssg_count(h) == 0


def test_ssg_50_04_tampered_session_is_401_not_403(httpd):
    h = serve(httpd, _admin("Require user alice"))
    h.ack("SSG0001")
    bad = with_field(support.mint("user=alice"), 3, b64e(b"user=admin"))
    st, hd, _ = send(h, "/admin/", bad)
    assert st == 401
    assert header(hd, "WWW-Authenticate") is None
    assert len(wait_ssg(h, 1)) == 1


@pytest.mark.parametrize("change,reason", [
    (lambda b: b.replace("SessionSignKey %s\n" % KEY1, ""),
     "no SessionSignKey or SessionSignKeyFile in this scope"),
    (lambda b: b.replace("Session On\n", "Session Off\n"),
     "Session is not On in this scope"),
], ids=["no-key", "session-off"])
def test_ssg_50_05_misconfigured_authtype_is_a_loud_500(httpd, change, reason):
    """AuthType session-sign where it cannot work authenticates nobody: a
    500 and an SSG0010 line naming the fix, never a silent 401."""
    body = change(site())
    h = serve(httpd, body)
    h.ack(r"\[session_sign:error\].*SSG0010: AuthType session-sign cannot work "
          r"here: " + reason)
    st, hd, _ = send(h, "/app/", support.mint("user=alice"))
    assert st == 500
    assert h.wait_log("SSG0010: .*" + reason + "; add SessionSignKey")


# ---------------------------------------------------------------- Require user / expr

@pytest.mark.parametrize("require", [
    "Require user alice",
    "Require expr %{REMOTE_USER} == 'alice'",
    "Require user carol alice",
])
def test_ssg_50_10_require_allows_the_named_user(httpd, require):
    h = serve(httpd, _admin(require))
    st, hd, _ = send(h, "/admin/", support.mint("user=alice"))
    assert st == 200 and header(hd, "X-User") == "alice"


@pytest.mark.parametrize("require,logged", [
    ("Require user alice", AUTHZ_FAIL % "bob"),
    ("Require expr %{REMOTE_USER} == 'alice'", EXPR_FAIL),
], ids=["user", "expr"])
@pytest.mark.parametrize("forbidden_on_failure", [False, True])
def test_ssg_50_11_require_refuses_another_user_with_403(httpd, require, logged,
                                                         forbidden_on_failure):
    extra = "AuthzSendForbiddenOnFailure On" if forbidden_on_failure else ""
    h = serve(httpd, _admin(require, extra))
    h.ack(logged)
    st, hd, _ = send(h, "/admin/", support.mint("user=bob"))
    assert st == 403
    assert header(hd, "WWW-Authenticate") is None
    assert h.wait_log(logged)
    # a user who is no user at all still gets 401
    st, hd, _ = send(h, "/admin/")
    assert st == 401


def test_ssg_50_12_user_names_compare_exactly(httpd):
    h = serve(httpd, _admin("Require user alice"))
    h.ack(AUTHZ_FAIL % r"\S+ ?")
    for user in ("Alice", "alice2", "alic", "alice%20"):
        st, _, _ = send(h, "/admin/", support.mint("user=" + user))
        assert st == 403, user


# ---------------------------------------------------------------- session-attr

@pytest.mark.parametrize("payload,status", [
    ("user=alice&role=x", 200),
    ("user=alice&role=admin", 200),
    ("user=alice", 403),
    ("user=alice&role=", 403),          # empty means absent
    ("user=alice&rolex=admin", 403),
    # session keys are CASE-INSENSITIVE: mod_session keeps them in an
    # apr_table (documented fact, not a hole: only the server writes them)
    ("user=alice&Role=x", 200),
])
def test_ssg_50_20_require_session_attr_present(httpd, payload, status):
    h = serve(httpd, _admin("Require session-attr role"))
    h.ack(ATTR_FAIL)
    st, hd, _ = send(h, "/admin/", support.mint(payload))
    assert st == status


@pytest.mark.parametrize("role,status", [
    ("admin", 200), ("ops", 200),
    ("user", 403), ("Admin", 403), ("admin2", 403), ("adm", 403),
    ("admin%20ops", 403), ("admin+ops", 403),
])
@pytest.mark.parametrize("forbidden_on_failure", [False, True])
def test_ssg_50_21_require_session_attr_value_in_list(httpd, role, status,
                                                      forbidden_on_failure):
    extra = "AuthzSendForbiddenOnFailure On" if forbidden_on_failure else ""
    h = serve(httpd, _admin("Require session-attr role admin ops", extra))
    h.ack(ATTR_FAIL)
    st, hd, _ = send(h, "/admin/", support.mint("user=alice&role=" + role))
    assert st == status
    assert header(hd, "WWW-Authenticate") is None
    if status == 403:
        assert h.wait_log(ATTR_FAIL)


def test_ssg_50_22_session_attr_without_session_is_401(httpd):
    h = serve(httpd, _admin("Require session-attr role admin"))
    st, hd, _ = send(h, "/admin/")
    assert st == 401
    assert header(hd, "WWW-Authenticate") is None


def test_ssg_50_23_session_attr_cannot_come_from_an_unsigned_source(httpd):
    """The attribute is read from the verified session only: a forged
    'Session' request header or a second cookie do not grant it."""
    h = serve(httpd, _admin("Require session-attr role admin"))
    h.ack(ATTR_FAIL, "SSG0001")
    tok = support.mint("user=alice&role=user")
    st, _, _ = send(h, "/admin/", tok, headers=[("Session", "user=alice&role=admin")])
    assert st == 403
    st, _, _ = send(h, "/admin/", cookie="session=%s; role=admin" % tok)
    assert st == 403


def test_ssg_50_24_bad_require_session_attr_is_refused_at_configtest(httpd):
    h = serve(httpd, _admin("Require session-attr"), start=False)
    t = h.configtest()
    assert t.returncode != 0
    assert "Require session-attr needs a session key" in t.stderr
    h = serve(httpd, _admin("Require session-attr a=b"), start=False)
    t = h.configtest()
    assert t.returncode != 0
    assert "cannot contain '=' or '&'" in t.stderr


# ---------------------------------------------------------------- combinations

REQUIRE_ALL = """
  <RequireAll>
    Require valid-user
    Require session-attr role admin
    Require expr %{REMOTE_USER} != 'mallory'
  </RequireAll>"""

REQUIRE_ANY = """
  <RequireAny>
    Require user bob
    Require session-attr role admin
  </RequireAny>"""

REQUIRE_NESTED = """
  <RequireAny>
    Require user root
    <RequireAll>
      Require session-attr role ops
      Require session-attr team blue
    </RequireAll>
  </RequireAny>"""


@pytest.mark.parametrize("block,payload,status", [
    (REQUIRE_ALL, "user=alice&role=admin", 200),
    (REQUIRE_ALL, "user=alice&role=user", 403),
    (REQUIRE_ALL, "user=mallory&role=admin", 403),
    (REQUIRE_ALL, "role=admin", 401),
    (REQUIRE_ANY, "user=bob", 200),
    (REQUIRE_ANY, "user=carol&role=admin", 200),
    (REQUIRE_ANY, "user=carol&role=user", 403),
    (REQUIRE_ANY, None, 401),
    (REQUIRE_NESTED, "user=root", 200),
    (REQUIRE_NESTED, "user=dave&role=ops&team=blue", 200),
    (REQUIRE_NESTED, "user=dave&role=ops&team=red", 403),
    (REQUIRE_NESTED, "user=dave&team=blue", 403),
], ids=["all-ok", "all-role", "all-expr", "all-noid", "any-user", "any-attr",
        "any-none", "any-nosession", "nested-user", "nested-all", "nested-team",
        "nested-norole"])
def test_ssg_50_30_require_containers(httpd, block, payload, status):
    h = serve(httpd, _admin(block))
    h.ack(ANY_FAIL)
    tok = support.mint(payload) if payload else None
    st, hd, _ = send(h, "/admin/", tok)
    assert st == status
    assert header(hd, "WWW-Authenticate") is None


def test_ssg_50_31_session_attr_on_a_location_without_authtype(httpd):
    """Require session-attr alone (no AuthType): a refusal is 403 (there is
    no authentication to ask for), a match is 200."""
    h = serve(httpd, site(extra="""
<Location /admin>
  Require session-attr role admin
</Location>"""))
    h.ack(r"\[authz_core:error\].*AH01630: client denied by server configuration")
    st, hd, _ = send(h, "/admin/", support.mint("user=alice&role=admin"))
    assert st == 200
    st, hd, _ = send(h, "/admin/", support.mint("user=alice&role=user"))
    assert st == 403
    st, hd, _ = send(h, "/admin/")
    assert st == 403
