"""The native library's file name on this platform. Imports nothing from the package, so the
wheel build hook (hatch_build.py) reads the same name the loader (_native.py) looks for."""

import sys

if sys.platform == "win32":
    LIBRARY_FILE = "ky_access_token.dll"
elif sys.platform == "darwin":
    LIBRARY_FILE = "libky_access_token.dylib"
else:
    LIBRARY_FILE = "libky_access_token.so"
