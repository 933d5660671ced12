"""One call from Python through the binding in bindings/python (ctypes)."""
import sys

import ky_access_token as ky

try:
    print(ky.get_access_token("223fc70098ad11e9a5898928ba7882e6"))
except ky.KyError as e:
    sys.exit(f"{type(e).__name__}: {e}")  # e.status, e.api_err, e.message
