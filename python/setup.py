"""Builds libdintsim with the repository's scripts/build-lib.sh (unless DINTSIM_LIBRARY names a
built one) and ships it inside the package. The version is Sources/Formats/Version.swift's, the
one source of dintsim --version and dintsim_version()."""
import os
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent


def version():
    text = (REPOSITORY / "Sources/Formats/Version.swift").read_text()
    return re.search(r'static let string = "([^"]+)"', text).group(1)


class BuildWithLibrary(build_py):
    def run(self):
        library = os.environ.get("DINTSIM_LIBRARY")
        if not library:
            library = subprocess.run(["bash", str(REPOSITORY / "scripts/build-lib.sh")], check=True,
                                     stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
        shutil.copyfile(library, HERE / "dintsim" / "libdintsim.so")
        super().run()


setup(version=version(), cmdclass={"build_py": BuildWithLibrary})
