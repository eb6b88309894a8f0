"""fsig_ref.py - the Python verifier of docs/forward-signature.md, exactly as
printed there (standard library only), for the tests' cross-checks of what
Apache signs with WSAuthForwardSignature."""
import base64
import hashlib
import hmac
import re
import time


def verify(value, method, path, headers, key, window=60):
    """headers: the request's headers, names lowercased, values as str
    decoded as latin-1 (WSGI does this). Returns {name: value} or None."""
    m = re.fullmatch(r"v1;t=([1-9][0-9]{0,11});h=([^;]*);s=([A-Za-z0-9_-]{43})", value or "")
    if not m or abs(time.time() - int(m.group(1))) > window:
        return None
    names = m.group(2).split(",") if m.group(2) else []
    msg = "mod_ws_auth forward-signature v1\n%s\n%s\n%s\n" % (m.group(1), method, path)
    for n in names:
        if n not in headers:
            return None
        msg += "%s:%s\n" % (n, headers[n])
    want = base64.urlsafe_b64encode(
        hmac.new(key, msg.encode("latin-1"), hashlib.sha256).digest()).rstrip(b"=").decode()
    return {n: headers[n] for n in names} if hmac.compare_digest(want, m.group(3)) else None
