"""META.json is valid PGXN metadata (spec 1.0.0) and agrees with the control
file, the Debian package and the tree; debian/control is made from
debian/control.in.  Run from the repository root:
    python3 -m unittest discover -s test/meta -v
"""
import copy
import json
import os
import re
import unittest

import pgxn_meta

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def read(name):
    with open(os.path.join(TOP, name), encoding="utf-8") as f:
        return f.read()


META = json.loads(read("META.json"))


class MetaJsonTest(unittest.TestCase):
    def test_valid_against_the_spec(self):
        self.assertEqual(pgxn_meta.errors(META), [])

    def test_versions_agree_with_control_and_debian_changelog(self):
        control = re.search(r"^default_version = '([^']+)'", read("imei_registry.control"), re.M)[1]
        semver = control + ".0" * (2 - control.count("."))
        self.assertEqual(META["version"], semver)
        self.assertEqual(META["provides"]["imei_registry"]["version"], semver)
        changelog = re.match(r"\S+ \(([^)-]+)", read("debian/changelog"))[1]
        self.assertEqual(changelog, control)

    def test_postgresql_minimum_is_debian_pgversions(self):
        pgversions = read("debian/pgversions").split()
        self.assertEqual(pgversions, ["15+"])
        self.assertEqual(META["prereqs"]["runtime"]["requires"]["PostgreSQL"], "15.0.0")
        self.assertIn("pg_cron", META["prereqs"]["runtime"]["recommends"])

    def test_names_the_extension_and_files_that_exist(self):
        self.assertEqual(META["name"], "imei_registry")
        self.assertEqual(list(META["provides"]), ["imei_registry"])
        ext = META["provides"]["imei_registry"]
        for f in (ext["file"], ext["docfile"]):
            self.assertTrue(os.path.isfile(os.path.join(TOP, f)), f)
        for d in META["no_index"]["directory"]:
            self.assertTrue(os.path.isdir(os.path.join(TOP, d)), d)


class DebianControlTest(unittest.TestCase):
    """debian/control is debian/control.in expanded by pg_buildext updatecontrol."""

    def test_control_is_control_in_expanded(self):
        source, *templates = read("debian/control.in").strip().split("\n\n")
        got_source, *packages = read("debian/control").strip().split("\n\n")
        self.assertEqual(got_source, source)
        majors = [m for p in packages
                  for m in re.findall(r"^Package: postgresql-(\d+)-imei-registry$", p, re.M)]
        self.assertTrue(majors)
        self.assertTrue(all(int(m) >= 15 for m in majors), majors)
        self.assertEqual(packages, [t.replace("PGVERSION", m) for m in majors for t in templates])


class ValidatorTest(unittest.TestCase):
    """The validator refuses what the spec refuses (so the test above can fail)."""

    def refused(self, change, path):
        meta = copy.deepcopy(META)
        change(meta)
        errs = pgxn_meta.errors(meta)
        self.assertTrue(any(e.startswith(path + ":") for e in errs), errs)

    def test_required_keys(self):
        for key in pgxn_meta.REQUIRED:
            with self.subTest(key=key):
                self.refused(lambda m: m.pop(key), "$")

    def test_forms(self):
        cases = [
            ("$.version", lambda m: m.update(version="1.0")),
            ("$.name", lambda m: m.update(name="imei registry")),
            ("$.license", lambda m: m.update(license="GPL")),
            ("$.maintainer", lambda m: m.update(maintainer=[])),
            ("$", lambda m: m.update(homepage="https://example.org/")),
            ("$.provides.imei_registry", lambda m: m["provides"]["imei_registry"].pop("file")),
            ("$.provides.imei_registry.version",
             lambda m: m["provides"]["imei_registry"].update(version="1")),
            ("$.prereqs.runtime.requires.PostgreSQL",
             lambda m: m["prereqs"]["runtime"].update(requires={"PostgreSQL": ">= 15"})),
            ("$.prereqs", lambda m: m["prereqs"].update(install={"requires": {"x": 0}})),
            ("$.prereqs.test", lambda m: m["prereqs"].update(test={})),
            ("$.meta-spec.version", lambda m: m["meta-spec"].update(version="2.0.0")),
            ("$.tags[0]", lambda m: m.update(tags=["a/b"])),
            ("$.release_status", lambda m: m.update(release_status="final")),
            ("$.resources.repository",
             lambda m: m.update(resources={"repository": {"url": "git://x"}})),
        ]
        for path, change in cases:
            with self.subTest(path=path):
                self.refused(change, path)

    def test_custom_keys_and_ranges_are_accepted(self):
        meta = copy.deepcopy(META)
        meta["x_debian"] = "postgresql-15-imei-registry"
        meta["prereqs"]["runtime"]["requires"]["PostgreSQL"] = ">= 15.0.0, < 19.0.0"
        self.assertEqual(pgxn_meta.errors(meta), [])


if __name__ == "__main__":
    unittest.main()
