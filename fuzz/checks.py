"""Schemathesis checks for AISHA's error contract: every GraphQL error carries a stable
`extensions.code`, and none is INTERNAL (an INTERNAL is a bug the fuzzer found)."""

import schemathesis


@schemathesis.check
def errors_are_coded_and_never_internal(ctx, response, case):
    try:
        body = response.json()
    except Exception:  # a non-JSON answer is the server-error check's business
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or []:
        code = ((error or {}).get("extensions") or {}).get("code")
        if not code:
            raise AssertionError(f"an error without extensions.code: {error}")
        if code == "INTERNAL":
            raise AssertionError(f"an INTERNAL error: {error}")
    return None


@schemathesis.check
def never_a_5xx(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"the server answered {response.status_code}: {response.text[:300]}")
    return None
