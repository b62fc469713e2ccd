"""Issue 12, findings 5 and 9: every file of the upload attack corpus gets the
outcome it should (bombs, truncated files, polyglots, active PDFs, lying names
and types refused; real photos, scans and PDFs accepted), and the memory that
verifying them takes is measured and bounded, per image and per process.

Memory is measured in fresh processes (the kernel's peak RSS, VmHWM, reset with
/proc/self/clear_refs before each file), since Pillow, libheif and libwebp
allocate outside Python's allocator. The numbers are printed (`pytest -s`).
"""
import io
import json
import os
import subprocess
import sys

import pytest

from evidence import documents, domain, images
from upload_corpus import corpus, png_bomb

MB = 1024 * 1024
MAX_BYTES = 64 * MB
LIMITS = images.Limits()  # the defaults: 128 MiB per image, 384 MiB per process


def verify(data: bytes, limits=LIMITS) -> str:
    """What the evidence service does with the bytes of an upload (service._inspect),
    without the object store: the outcome code, or "accepted"."""
    try:
        kind = domain.verify(len(data), data[:domain.HEAD_BYTES], data[-domain.TAIL_BYTES:],
                             MAX_BYTES, data[:domain.MARKUP_BYTES])
        if kind in domain.IMAGE_KINDS:
            images.inspect(io.BytesIO(data), kind, limits)
        else:
            documents.inspect_pdf(io.BytesIO(data))
    except domain.Rejected as rejected:
        return rejected.code
    return "accepted"


@pytest.fixture(scope="module")
def files():
    return corpus()


def test_every_file_of_the_corpus_gets_its_outcome(files):
    outcomes = {name: verify(data) for name, (data, _, _, _) in files.items()}
    expected = {name: entry[3] for name, entry in files.items()}
    assert outcomes == expected


def test_the_probes_bomb_is_refused_without_being_decoded():
    # 7999 x 7999 RGBA: 249 KB that Pillow would hold as 256 MB.
    data = png_bomb(7999, 7999)
    assert len(data) < 400_000
    assert verify(data) == "too_large_to_decode"
    # Under a larger per-image limit it would be decoded: the limit is what refuses it.
    assert verify(data, images.Limits(image_bytes=300 * MB, process_bytes=600 * MB)) \
        == "accepted"


def test_a_decode_waits_for_the_budget_then_gives_up_as_busy():
    budget = images.DecodeBudget(100)
    taken = budget.acquire(80, wait_s=0)
    with pytest.raises(images.Busy):
        budget.acquire(40, wait_s=0.05)
    budget.release(taken)
    assert budget.acquire(1000, wait_s=0) == 100  # one image larger than all fits alone
    budget.release(100)
    assert budget.used == 0


# --- measured peak memory ----------------------------------------------------------

MEASURE = r"""
import io, json, sys, threading, time
from evidence import documents, domain, images

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")

limits = images.Limits(image_bytes=int(sys.argv[2]), process_bytes=int(sys.argv[3]))
MAX = 64 * 1024 * 1024

def check(path):
    with open(path, "rb") as fp:
        data_head = fp.read(1024)
        size = fp.seek(0, 2)
        fp.seek(-min(size, 1024), 2)
        tail = fp.read()
        try:
            kind = domain.verify(size, data_head[:64], tail, MAX, data_head)
            if kind in domain.IMAGE_KINDS:
                images.inspect(fp, kind, limits)
            else:
                documents.inspect_pdf(fp)
            return "accepted"
        except domain.Rejected as rejected:
            return rejected.code

# Warm up every decoder once, so that their code and tables are not counted.
for warm in sys.argv[5:7]:
    check(warm)
results = {}
paths = json.loads(sys.argv[4])
if sys.argv[1] == "each":
    for path in paths:
        base = status("VmRSS")
        reset_peak()
        outcome = check(path)
        results[path] = {"outcome": outcome, "peak_growth": status("VmHWM") - base}
else:  # "together": every file at once, one thread each
    base = status("VmRSS")
    reset_peak()
    outcomes = {}
    threads = [threading.Thread(target=lambda p=p: outcomes.__setitem__(p, check(p)))
               for p in paths]
    for t in threads: t.start()
    for t in threads: t.join()
    results = {"outcomes": outcomes, "peak_growth": status("VmHWM") - base}
print(json.dumps(results))
"""


def measure(mode, paths, warmups, image_bytes=LIMITS.image_bytes,
            process_bytes=LIMITS.process_bytes):
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, mode, str(image_bytes), str(process_bytes),
         json.dumps(paths), *warmups], capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def on_disk(files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    paths = {}
    for name, (data, _, _, _) in files.items():
        paths[name] = str(folder / name)
        with open(paths[name], "wb") as f:
            f.write(data)
    near_limit = str(folder / "near-limit-png-5600-rgba")
    with open(near_limit, "wb") as f:  # 5600 x 5600 x 4 = 120 MiB decoded: allowed
        f.write(png_bomb(5600, 5600))
    paths["near-limit-png-5600-rgba"] = near_limit
    return paths


def test_peak_memory_of_verifying_each_file_is_bounded(files, on_disk):
    warmups = [on_disk["photo.jpg"], on_disk["report.pdf"]]
    results = measure("each", list(on_disk.values()), warmups)
    rows = []
    for name, path in on_disk.items():
        growth = results[path]["peak_growth"] / MB
        rows.append((name, results[path]["outcome"], growth))
        # Per image: what one image may take decoded, and the thumbnail's working
        # copy (a full one for alpha images): at most 2.2 times the per-image limit.
        # The probe's 7999 x 7999 PNG alone took 793 MB before this bound.
        assert growth < LIMITS.image_bytes / MB * 2.2, (name, growth)
        if name.startswith("bomb-") and results[path]["outcome"] != "accepted":
            assert growth < 48, (name, growth)  # refused before anything is decoded
    print("\nverification peak memory growth per file (MiB):")
    for name, outcome, growth in rows:
        print(f"  {name:28} {outcome:22} {growth:7.1f}")
    assert results[on_disk["near-limit-png-5600-rgba"]]["outcome"] == "accepted"


@pytest.mark.slow
def test_many_decodes_at_once_share_one_budget_per_process(on_disk):
    """Six images of 120 MiB decoded each, at once: with the budget the process stays
    within it (they wait for each other); without, it holds all of them."""
    paths = [on_disk["near-limit-png-5600-rgba"]] * 6
    warmups = [on_disk["photo.jpg"], on_disk["report.pdf"]]
    bounded = measure("together", paths, warmups)
    assert set(bounded["outcomes"].values()) == {"accepted"}
    unbounded = measure("together", paths[:3], warmups, process_bytes=4096 * MB)
    growth, free = bounded["peak_growth"] / MB, unbounded["peak_growth"] / MB
    print(f"\n6 x 120 MiB PNG at once: peak growth {growth:.0f} MiB with a "
          f"{LIMITS.process_bytes // MB} MiB budget; 3 at once without it: {free:.0f} MiB")
    assert growth < LIMITS.process_bytes / MB + 32
    assert free > growth  # the budget is what keeps it down
