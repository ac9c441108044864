"""Source tarballs unpack safely: every bad entry is refused with its name, limits hold while the
archive streams, and a refused tarball leaves nothing behind, inside or outside the destination."""
from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from hoist.platform.tarball import Limits, SourceError, check_checksum, sha256_of, unpack_tarball

LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_files=1000)


def make_tar(path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz",
             fmt: int = tarfile.PAX_FORMAT) -> Path:
    with tarfile.open(path, mode, format=fmt) as tar:
        for e in entries:
            if isinstance(e, tarfile.TarInfo):
                tar.addfile(e)
            else:
                info = tarfile.TarInfo(e[0])
                info.size = len(e[1])
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(e[1]))
    return path


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def special(name: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.devmajor, info.devminor = 1, 3
    return info


@pytest.fixture
def area(tmp_path: Path) -> Path:
    """A directory holding the tarball, the destination inside `slugs/`, and a sentinel outside it."""
    (tmp_path / "slugs").mkdir()
    (tmp_path / "outside.txt").write_text("untouched")
    return tmp_path


def leftovers(area: Path) -> list[str]:
    """Everything under the area but the tarballs and the sentinel: a refused unpack leaves nothing."""
    found = []
    for root, dirs, files in os.walk(area):
        for name in dirs + files:
            rel = os.path.relpath(os.path.join(root, name), area)
            if rel not in ("slugs", "outside.txt") and not rel.endswith((".tgz", ".tar", ".tar.xz", ".tar.bz2")):
                found.append(rel)
    return sorted(found)


def test_a_plain_tree_unpacks_with_its_links(area: Path) -> None:
    tgz = make_tar(area / "app.tgz", [("app.py", b"print('hi')\n"), ("static/site.css", b"body{}"),
                                       link("static/current.css", "site.css"), link("copy.py", "app.py", tarfile.LNKTYPE),
                                       ("Procfile", b"web: gunicorn app:app\n")])
    dest = area / "slugs" / "s1"
    assert unpack_tarball(tgz, dest, LIMITS) == 5
    assert (dest / "app.py").read_text() == "print('hi')\n"
    assert os.readlink(dest / "static" / "current.css") == "site.css"
    assert (dest / "copy.py").read_text() == "print('hi')\n"
    assert sorted(p.name for p in dest.iterdir()) == ["Procfile", "app.py", "copy.py", "static"]


def test_one_top_level_directory_is_unpacked_from_inside(area: Path) -> None:
    """GitHub's tarballs hold NAME-REF/...: the app is what is inside (with or without the directory's own entry)."""
    top = tarfile.TarInfo("notes-main")
    top.type = tarfile.DIRTYPE
    for i, first in enumerate(([top], [])):
        tgz = make_tar(area / f"gh{i}.tgz", [*first, ("notes-main/app.py", b"x"), ("notes-main/lib/util.py", b"y")])
        dest = area / "slugs" / f"gh{i}"
        unpack_tarball(tgz, dest, LIMITS)
        assert sorted(p.name for p in dest.iterdir()) == ["app.py", "lib"]
        assert (dest / "lib" / "util.py").read_text() == "y"
    # two top-level entries: unpacked as they are
    tgz = make_tar(area / "two.tgz", [("notes-main/app.py", b"x"), ("README", b"r")])
    unpack_tarball(tgz, area / "slugs" / "two", LIMITS)
    assert sorted(p.name for p in (area / "slugs" / "two").iterdir()) == ["README", "notes-main"]


def test_dot_slash_names_and_other_compressions(area: Path) -> None:
    for mode, suffix in (("w:", "tar"), ("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")):
        t = make_tar(area / f"a.{suffix}", [("./app.py", b"x"), ("./Procfile", b"web: x\n")], mode=mode)
        dest = area / "slugs" / suffix
        unpack_tarball(t, dest, LIMITS)
        assert sorted(p.name for p in dest.iterdir()) == ["Procfile", "app.py"]


@pytest.mark.parametrize("entries, words", [
    ([("../evil.py", b"x")], "'..'"),
    ([("app/../../evil.py", b"x")], "'..'"),
    ([("/etc/evil.conf", b"x")], "absolute path"),
    ([link("escape", "../../outside.txt")], "outside the app"),
    ([link("escape", "/etc/passwd")], "absolute path"),
    ([link("d/up", "..")], None),  # d/.. is the root itself: allowed
    ([link("hard", "../outside.txt", tarfile.LNKTYPE)], "hard link"),
    ([link("hard", "/etc/passwd", tarfile.LNKTYPE)], "hard link"),
    ([special("dev/null", tarfile.CHRTYPE)], "device file"),
    ([special("dev/sda", tarfile.BLKTYPE)], "device file"),
    ([special("pipe", tarfile.FIFOTYPE)], "fifo"),
])
def test_bad_entries_are_refused_and_nothing_is_written(area: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]],
                                                        words: str | None) -> None:
    tgz = make_tar(area / "bad.tgz", [("ok.py", b"x"), *entries])
    dest = area / "slugs" / "s"
    if words is None:
        unpack_tarball(tgz, dest, LIMITS)
        return
    with pytest.raises(SourceError) as err:
        unpack_tarball(tgz, dest, LIMITS)
    assert words in str(err.value)
    assert leftovers(area) == []
    assert (area / "outside.txt").read_text() == "untouched"
    assert not (area / "evil.py").exists() and not dest.exists()


def test_a_file_through_a_symlinked_directory_stays_inside(area: Path) -> None:
    """A link that is fine on its own (to a directory inside) cannot carry a later file outside."""
    tgz = make_tar(area / "chain.tgz", [link("a", "."), ("a/b.py", b"x")])
    dest = area / "slugs" / "chain"
    unpack_tarball(tgz, dest, LIMITS)
    assert (dest / "b.py").read_text() == "x"


def test_a_decompression_bomb_stops_at_the_limit_while_streaming(area: Path) -> None:
    """64 MiB of zeros gzip to ~64 KiB; the 1 MiB limit stops it long before it is written out."""
    bomb = area / "bomb.tgz"
    with gzip.open(bomb, "wb") as gz:
        with tarfile.open(fileobj=gz, mode="w|") as tar:  # type: ignore[call-overload]
            info = tarfile.TarInfo("zeros.bin")
            info.size = 64 * 1024 * 1024
            tar.addfile(info, io.BufferedReader(_Zeros(info.size)))  # type: ignore[arg-type]
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(SourceError) as err:
        unpack_tarball(bomb, area / "slugs" / "b", Limits(max_bytes=1024 * 1024, max_files=100))
    assert "more than 1 MiB" in str(err.value)
    assert leftovers(area) == []


def test_many_small_files_and_many_entries_are_counted(area: Path) -> None:
    many = make_tar(area / "many.tgz", [(f"f{i}.txt", b"x" * 600) for i in range(50)])
    with pytest.raises(SourceError) as err:
        unpack_tarball(many, area / "slugs" / "m", Limits(max_bytes=10 * 1024 * 1024, max_files=20))
    assert "more than 20 entries" in str(err.value)
    with pytest.raises(SourceError) as err:
        unpack_tarball(many, area / "slugs" / "m", Limits(max_bytes=20000, max_files=100))
    assert "unpacks to more than" in str(err.value)
    assert leftovers(area) == []


def test_a_huge_header_is_refused_before_it_is_read(area: Path) -> None:
    """A pax header claiming 64 MiB would be read into memory whole by tarfile: refused unread."""
    raw = io.BytesIO()
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 64 * 1024 * 1024
    raw.write(header.tobuf(tarfile.USTAR_FORMAT))
    raw.write(b"\0" * 1024)
    t = area / "hdr.tar"
    t.write_bytes(raw.getvalue())
    with pytest.raises(SourceError) as err:
        unpack_tarball(t, area / "slugs" / "h", LIMITS)
    assert "header" in str(err.value) or "not a tarball" in str(err.value)


def test_garbage_and_a_cut_short_tarball_are_not_tarballs(area: Path) -> None:
    (area / "junk.tgz").write_bytes(b"PK\x03\x04 this is a zip, not a tarball" * 10)
    with pytest.raises(SourceError) as err:
        unpack_tarball(area / "junk.tgz", area / "slugs" / "j", LIMITS)
    assert "not a tarball" in str(err.value)
    good = make_tar(area / "good.tgz", [("a.py", os.urandom(50000))])
    (area / "cut.tgz").write_bytes(good.read_bytes()[:20000])
    with pytest.raises(SourceError):
        unpack_tarball(area / "cut.tgz", area / "slugs" / "c", LIMITS)
    assert leftovers(area) == []


def test_checksums(area: Path) -> None:
    t = make_tar(area / "c.tgz", [("a.py", b"x")])
    check_checksum(t, "SHA256:" + sha256_of(t))
    check_checksum(t, "sha256:" + sha256_of(t).upper())
    with pytest.raises(SourceError) as err:
        check_checksum(t, "SHA256:" + "0" * 64)
    assert "not " + "0" * 64 in str(err.value)
    with pytest.raises(SourceError):
        check_checksum(t, "MD5:abc")


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        n = min(len(b), self.left)
        b[:n] = b"\0" * n
        self.left -= n
        return n
