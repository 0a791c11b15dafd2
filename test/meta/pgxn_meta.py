"""A validator for PGXN distribution metadata, META.json spec 1.0.0
(https://pgxn.org/spec/): the required keys, the type and form of every key
the spec defines, and no unknown keys except custom ones (x_ / X_).

errors(meta) returns the list of violations, each naming its JSON path;
an empty list means valid.  Run as a script it checks the files it is given.
"""
import json
import re
import sys

SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?"
    r"(\+[0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*)?")
RANGE_PART = re.compile(r"((==|!=|<=|>=|<|>)\s*)?(" + SEMVER.pattern + r"|0)")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
    "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
    "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
    "restricted", "unrestricted", "unknown",
}
PHASES = ("configure", "build", "test", "runtime", "develop")
RELATIONS = ("requires", "recommends", "suggests", "conflicts")
REQUIRED = ("name", "version", "abstract", "maintainer", "license", "provides", "meta-spec")
OPTIONAL = ("description", "generated_by", "tags", "no_index", "prereqs",
            "release_status", "resources")


def _custom(key):
    return len(key) > 2 and key[:2] in ("x_", "X_")


class _Checker:
    def __init__(self):
        self.errors = []

    def fail(self, path, message):
        self.errors.append(f"{path}: {message}")

    def keys(self, path, obj, allowed, required=(), any_of=()):
        """obj is an object with only allowed (or custom) keys."""
        if not isinstance(obj, dict):
            self.fail(path, "must be an object")
            return False
        for k in required:
            if k not in obj:
                self.fail(path, f'"{k}" is required')
        if any_of and not any(k in obj for k in any_of):
            self.fail(path, "needs one of " + ", ".join(f'"{k}"' for k in any_of))
        for k in obj:
            if k not in allowed and not _custom(k):
                self.fail(path, f'unknown key "{k}"')
        return True

    def string(self, path, v, min_len=1):
        if not isinstance(v, str):
            self.fail(path, "must be a string")
            return False
        if len(v) < min_len:
            self.fail(path, f"must have at least {min_len} characters")
            return False
        return True

    def term(self, path, v):
        """A name: 2+ characters, no slash, backslash, space or control."""
        if self.string(path, v, 2) and any(
                c in "/\\" or c.isspace() or ord(c) < 32 or ord(c) == 127 for c in v):
            self.fail(path, f'"{v}" contains a slash, backslash, space or control character')

    def version(self, path, v):
        if self.string(path, v) and not SEMVER.fullmatch(v):
            self.fail(path, f'"{v}" is not a semantic version (X.Y.Z)')

    def version_range(self, path, v):
        if v == 0 and not isinstance(v, bool):
            return
        if not isinstance(v, str):
            self.fail(path, "must be a version range string or 0")
            return
        if not all(RANGE_PART.fullmatch(p.strip()) for p in v.split(",")):
            self.fail(path, f'"{v}" is not a version range (e.g. "15.0.0", ">= 1.2.0, < 2.0.0")')

    def string_list(self, path, v, item, min_len=1):
        if not isinstance(v, list) or not v:
            self.fail(path, "must be a non-empty array")
            return
        if len(set(map(json.dumps, v))) != len(v):
            self.fail(path, "must not repeat an item")
        for i, s in enumerate(v):
            item(f"{path}[{i}]", s) if item else self.string(f"{path}[{i}]", s, min_len)

    def license(self, path, v):
        if isinstance(v, str):
            if v not in LICENSES:
                self.fail(path, f'"{v}" is not a license name of the spec')
        elif isinstance(v, list):
            self.string_list(path, v, lambda p, s: self.license(p, s) if isinstance(s, str)
                             else self.fail(p, "must be a string"))
        elif isinstance(v, dict):
            if not v:
                self.fail(path, "must name at least one license")
            for name, url in v.items():
                if self.string(f"{path}.{name}", url) and not re.match(r"[a-z][a-z0-9+.-]*://", url):
                    self.fail(f"{path}.{name}", f'"{url}" is not a URI')
        else:
            self.fail(path, "must be a license name, an array of them or an object of name: URI")

    def provides(self, path, v):
        if not isinstance(v, dict) or not v:
            self.fail(path, "must be an object naming at least one extension")
            return
        for ext, spec in v.items():
            p = f"{path}.{ext}"
            self.term(p, ext)
            if self.keys(p, spec, ("file", "version", "abstract", "docfile", "docpath"),
                         required=("file", "version")):
                if "file" in spec:
                    self.string(f"{p}.file", spec["file"], 2)
                if "version" in spec:
                    self.version(f"{p}.version", spec["version"])
                for k in ("abstract", "docpath"):
                    if k in spec:
                        self.string(f"{p}.{k}", spec[k])
                if "docfile" in spec:
                    self.string(f"{p}.docfile", spec["docfile"], 2)

    def prereqs(self, path, v):
        if not self.keys(path, v, PHASES, any_of=PHASES):
            return
        for phase in PHASES:
            if phase not in v:
                continue
            pp = f"{path}.{phase}"
            if not self.keys(pp, v[phase], RELATIONS, any_of=RELATIONS):
                continue
            for rel in RELATIONS:
                if rel not in v[phase]:
                    continue
                rp = f"{pp}.{rel}"
                deps = v[phase][rel]
                if not isinstance(deps, dict) or not deps:
                    self.fail(rp, "must be an object naming at least one prerequisite")
                    continue
                for name, rng in deps.items():
                    self.term(f"{rp}.{name}", name)
                    self.version_range(f"{rp}.{name}", rng)

    def resources(self, path, v):
        if not self.keys(path, v, ("homepage", "bugtracker", "repository"),
                         any_of=("homepage", "bugtracker", "repository")):
            return
        if "homepage" in v:
            self.string(f"{path}.homepage", v["homepage"])
        if "bugtracker" in v:
            self.keys(f"{path}.bugtracker", v["bugtracker"], ("web", "mailto"),
                      any_of=("web", "mailto"))
        if "repository" in v:
            r = v["repository"]
            if self.keys(f"{path}.repository", r, ("url", "web", "type")):
                if "web" not in r and not ("url" in r and "type" in r):
                    self.fail(f"{path}.repository", 'needs "web", or "url" with "type"')

    def no_index(self, path, v):
        if not self.keys(path, v, ("file", "directory"), any_of=("file", "directory")):
            return
        for k in ("file", "directory"):
            if k in v:
                if isinstance(v[k], str):
                    self.string(f"{path}.{k}", v[k], 2)
                else:
                    self.string_list(f"{path}.{k}", v[k], None, 2)

    def meta_spec(self, path, v):
        if not self.keys(path, v, ("version", "url"), required=("version",)):
            return
        if "version" in v and not (isinstance(v["version"], str)
                                   and re.fullmatch(r"1\.0\.\d+", v["version"])):
            self.fail(f"{path}.version", "must be 1.0.x for this spec")
        if "url" in v and v["url"] not in ("https://pgxn.org/meta/spec.txt",
                                           "http://pgxn.org/meta/spec.txt"):
            self.fail(f"{path}.url", "must be https://pgxn.org/meta/spec.txt")

    def check(self, meta):
        if not self.keys("$", meta, REQUIRED + OPTIONAL, required=REQUIRED):
            return self.errors
        get = meta.get
        if "name" in meta:
            self.term("$.name", get("name"))
        if "version" in meta:
            self.version("$.version", get("version"))
        for k in ("abstract", "description", "generated_by"):
            if k in meta:
                self.string(f"$.{k}", meta[k])
        if "maintainer" in meta:
            m = meta["maintainer"]
            if isinstance(m, list):
                self.string_list("$.maintainer", m, None)
            else:
                self.string("$.maintainer", m)
        if "license" in meta:
            self.license("$.license", meta["license"])
        if "provides" in meta:
            self.provides("$.provides", meta["provides"])
        if "meta-spec" in meta:
            self.meta_spec("$.meta-spec", meta["meta-spec"])
        if "tags" in meta:
            self.string_list("$.tags", meta["tags"], lambda p, s: self.term_tag(p, s))
        if "no_index" in meta:
            self.no_index("$.no_index", meta["no_index"])
        if "prereqs" in meta:
            self.prereqs("$.prereqs", meta["prereqs"])
        if "release_status" in meta and meta["release_status"] not in ("stable", "testing", "unstable"):
            self.fail("$.release_status", "must be stable, testing or unstable")
        if "resources" in meta:
            self.resources("$.resources", meta["resources"])
        return self.errors

    def term_tag(self, path, v):
        """A tag: 2 to 255 characters, no slash, backslash or control (spaces allowed)."""
        if self.string(path, v, 2):
            if len(v) > 255:
                self.fail(path, "must have at most 255 characters")
            if any(c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in v):
                self.fail(path, f'"{v}" contains a slash, backslash or control character')


def errors(meta):
    return _Checker().check(meta)


if __name__ == "__main__":
    bad = 0
    for f in sys.argv[1:]:
        with open(f, encoding="utf-8") as fh:
            for e in errors(json.load(fh)):
                print(f"{f}: {e}")
                bad = 1
    sys.exit(bad)
