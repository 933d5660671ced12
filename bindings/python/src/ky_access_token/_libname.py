"""The native library's file name on this platform. Imports nothing from the package, so the
wheel build hook (hatch_build.py) reads the same name the loader (_native.py) looks for."""

import sys


def library_file(platform: str) -> str:
    """The file name for a sys.platform value or a wheel platform tag (win_amd64, macosx_…,
    manylinux_…): scripts/dist.py builds every platform's wheel on one machine."""
    if platform == "win32" or platform.startswith("win"):
        return "ky_access_token.dll"
    if platform == "darwin" or platform.startswith("macosx"):
        return "libky_access_token.dylib"
    return "libky_access_token.so"


LIBRARY_FILE = library_file(sys.platform)
