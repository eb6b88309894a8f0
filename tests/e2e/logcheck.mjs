// The house rule for logs (docs STYLE.md 5): every [warn] or worse in
// Apache's error log must be one a test expects, by tag; no session token
// may appear in any log.
import assert from 'node:assert/strict';

// refusals the tests provoke on purpose, and httpd's own noise when a
// client or the stack goes away mid-tunnel (see tests/integration/support.py)
export const EXPECTED = [
    /WSA0001: /,          // gate refusal (no-session, invalid-session, origin-mismatch)
    /WSA0002: /,          // Require lines refused after the gate passed
    /SSG0001: /,          // tampered / expired session treated as none
    /SSG0036: /,          // failed form login
    /SSG0005: /,          // a revoked (logged-out) session presented again
    /AH01630: client denied by server configuration: proxy:http:\/\/127\.0\.0\.1:\d+\/admin\/socket\.io\//,
                          // mod_authz_core's own line for the admin path's 403
    /AH10240/, /AH00045/, /AH00046/, /AH03092/, /AH03093/,
];

const LINE = /^\[[^\]]*\] \[([\w-]*):(\w+)\]/;
const BAD = new Set(['warn', 'error', 'crit', 'alert', 'emerg']);

export function unexpectedLines(text, extra = []) {
    const acks = [...EXPECTED, ...extra];
    return text.split('\n').filter((l) => {
        const m = l.match(LINE);
        return m && BAD.has(m[2]) && !acks.some((re) => re.test(l));
    });
}

export function checkLogs(stack, cookies = [], extra = []) {
    assert.deepEqual(unexpectedLines(stack.errorLog(), extra), [], 'unexpected lines in the error log');
    const all = stack.errorLog() + stack.accessLog() + stack.backendLog();
    for (const c of cookies) {
        const token = c.replace(/^session=/, '');
        assert.ok(token.length > 20);
        assert.ok(!all.includes(token), 'a session token appears in a log');
        // the signature part alone must not leak either
        assert.ok(!all.includes(token.split('.').pop()), 'a token signature appears in a log');
    }
}
