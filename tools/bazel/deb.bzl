"""deb_package: a Debian binary package of one service, built with dpkg-deb.

The package holds the service binary (usr/bin/NAME), its systemd unit
(lib/systemd/system/NAME.service) and its default configuration
(etc/NAME/..., listed as conffiles so upgrades keep local edits). Files get a
fixed mtime and root ownership, so the same inputs give the same bytes.
"""

def _deb_impl(ctx):
    pkg = ctx.attr.package
    out = ctx.actions.declare_file("%s_%s_%s.deb" % (pkg, ctx.attr.version, ctx.attr.architecture))
    control = ctx.actions.declare_file(ctx.label.name + ".control")
    fields = [
        "Package: " + pkg,
        "Version: " + ctx.attr.version,
        "Architecture: " + ctx.attr.architecture,
        "Maintainer: " + ctx.attr.maintainer,
        "Section: " + ctx.attr.section,
        "Priority: optional",
    ]
    if ctx.attr.depends:
        fields.append("Depends: " + ", ".join(ctx.attr.depends))
    if ctx.attr.homepage:
        fields.append("Homepage: " + ctx.attr.homepage)
    desc = ctx.attr.description.strip().split("\n")
    fields.append("Description: " + desc[0])
    for line in desc[1:]:
        fields.append(" " + (line.strip() or "."))
    ctx.actions.write(control, "\n".join(fields) + "\n")

    copyright = ctx.actions.declare_file(ctx.label.name + ".copyright")
    ctx.actions.write(copyright, """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: {pkg}

Files: *
Copyright: {holder}
License: {license}
""".format(pkg = pkg, holder = ctx.attr.copyright_holder, license = ctx.attr.license))

    binary = ctx.executable.binary
    unit = ctx.file.systemd_unit
    conffiles = []
    copies = [
        "install -D -m 0755 %s \"$root/usr/bin/%s\"" % (binary.path, pkg),
        "install -D -m 0644 %s \"$root/lib/systemd/system/%s\"" % (unit.path, unit.basename),
    ]
    inputs = [binary, unit, control, copyright]
    for target, dest in ctx.attr.config.items():
        files = target.files.to_list()
        if len(files) != 1:
            fail("config %s must be exactly one file" % target.label)
        f = files[0]
        if not dest.startswith("/etc/"):
            fail("config destination %s must be under /etc/" % dest)
        copies.append("install -D -m 0644 %s \"$root%s\"" % (f.path, dest))
        conffiles.append(dest)
        inputs.append(f)

    conffiles_file = None
    if conffiles:
        conffiles_file = ctx.actions.declare_file(ctx.label.name + ".conffiles")
        ctx.actions.write(conffiles_file, "\n".join(conffiles) + "\n")
        inputs.append(conffiles_file)

    script = """set -eu
root=$(mktemp -d "${{TMPDIR:-/tmp}}/deb.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
mkdir -p "$root/DEBIAN"
{copies}
install -m 0644 {control} "$root/DEBIAN/control"
# Debian policy: a copyright file and a changelog in /usr/share/doc/PKG.
doc="$root/usr/share/doc/{pkg}"
mkdir -p "$doc"
install -m 0644 {copyright} "$doc/copyright"
printf '%s (%s) unstable; urgency=medium\n\n  * Built from the strideci monorepo.\n\n -- %s  Sat, 01 Jan 2000 00:00:00 +0000\n' '{pkg}' '{version}' '{maintainer}' | gzip -9n > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
{conffiles}
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\\./||' | LC_ALL=C sort | xargs md5sum > DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d @{epoch} {{}} +
SOURCE_DATE_EPOCH={epoch} dpkg-deb --root-owner-group -Zxz --build "$root" {out} >/dev/null
""".format(
        copies = "\n".join(copies),
        control = control.path,
        copyright = copyright.path,
        pkg = pkg,
        version = ctx.attr.version,
        maintainer = ctx.attr.maintainer,
        conffiles = "install -m 0644 %s \"$root/DEBIAN/conffiles\"" % conffiles_file.path if conffiles else "",
        epoch = ctx.attr.source_date_epoch,
        out = out.path,
    )
    ctx.actions.run_shell(
        inputs = inputs,
        outputs = [out],
        command = script,
        mnemonic = "DebPackage",
        progress_message = "Packaging %s %s" % (pkg, ctx.attr.version),
        use_default_shell_env = True,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

deb_package = rule(
    implementation = _deb_impl,
    doc = "A .deb with a service binary, its systemd unit and default config.",
    attrs = {
        "package": attr.string(mandatory = True, doc = "Debian package name; also the binary's name under /usr/bin."),
        "binary": attr.label(mandatory = True, executable = True, cfg = "target", doc = "The service binary."),
        "systemd_unit": attr.label(mandatory = True, allow_single_file = [".service"], doc = "Installed under /lib/systemd/system."),
        "config": attr.label_keyed_string_dict(allow_files = True, doc = "Default config files -> absolute destination under /etc (conffiles)."),
        "version": attr.string(default = "0.0.0", doc = "Debian version."),
        "architecture": attr.string(default = "amd64"),
        "maintainer": attr.string(default = "Stride Platform Team <platform@strideci.example>"),
        "section": attr.string(default = "net"),
        "homepage": attr.string(),
        "description": attr.string(mandatory = True, doc = "First line is the synopsis; further lines the long description."),
        "depends": attr.string_list(doc = "Depends: entries."),
        "copyright_holder": attr.string(default = "The strideci authors"),
        "license": attr.string(default = "Apache-2.0"),
        "source_date_epoch": attr.int(default = 946684800, doc = "mtime of every file (2000-01-01)."),
    },
)
