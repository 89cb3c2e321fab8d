"""The binary packages a phone or tablet bundle may hold.

`flet build apk` / `flet build ipa` (flet-cli 1.0.5, through serious_python's
`package` command) runs `pip install --only-binary :all:` for each Android ABI
and iOS target with the pyproject's `project.dependencies` as written, on the
configured index plus Flet's mobile package index, which builds Android and iOS
wheels of a list of binary packages (its recipes live in flet-dev/mobile-forge).
Any other binary package in the closure has no wheel there and the build fails
at the pip step. So every distribution the base dependencies pull in is a
pure-Python wheel, or is named here with why it is needed and where its mobile
wheels come from. Keep the list short: a new entry needs a reason the client
can't do without.

tests/packaging/test_bundle_closure.py resolves the closure for Android and iOS
and fails on anything that is neither pure Python nor here (or on an entry here
that is no longer in the closure).
"""

from __future__ import annotations

# normalized distribution name -> why it is in the bundle
ALLOWED_BINARY: dict[str, str] = {
    "msgpack": (
        "Flet's wire format between the Python app and its Flutter client (flet 1.0.5 "
        "requires msgpack>=1.1.0); a C extension. Flet's mobile index builds it "
        "(mobile-forge recipe msgpack 1.1.2), and pip takes that release when the newest "
        "one has no Android or iOS wheel."
    ),
}
