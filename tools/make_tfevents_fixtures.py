#!/usr/bin/env python3
"""Reference TensorBoard event files, written and read by the `tensorboard` package itself.

    python3 tools/make_tfevents_fixtures.py [OUT_DIR]        (default tests/fixtures/tfevents)
    python3 tools/make_tfevents_fixtures.py --check FILE     read FILE with TensorBoard's loader

The first form writes reference.tfevents with tensorboard's own RecordWriter and Event protobuf
(the events that tests/test_tfevents.cpp writes with our code, same wall times), and
reference.txt, what tensorboard's EventFileLoader reads back from it. The C++ test requires our
bytes to equal these. The second form is the read-back check for any file we wrote (a run's
events.out.tfevents.*): it prints every scalar, and fails on a bad checksum or a torn record.

Needs: pip install --no-deps tensorboard protobuf numpy absl-py packaging six (a venv is fine).
Not needed to build or test: the fixture is committed.
"""
import os
import sys

from tensorboard.backend.event_processing import event_file_loader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.util import tensor_util

# (wall_time, step, tag, value); the first row is the file-version event
EVENTS = [
    (1700000000.5, None, None, None),
    (1700000001.25, 0, "lr", 0.0005),
    (1700000001.5, 1, "Le", 12.375),
    (1700000002.0, 58, "r1", 0.0),
    (1700000003.0, 1234567, "rsum", 412.5),
    (1700000004.0, 300, "loss/matching", -1.5e-7),
    (1700000005.0, 2 ** 40, "meanr", 3.25),
]


def write(path):
    with open(path, "wb") as f:
        w = RecordWriter(f)
        for wall, step, tag, value in EVENTS:
            if tag is None:
                ev = event_pb2.Event(wall_time=wall, file_version="brain.Event:2")
            else:
                ev = event_pb2.Event(wall_time=wall, step=step,
                                     summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]))
            w.write(ev.SerializeToString())
        w.flush()


def read(path):
    lines = []
    for ev in event_file_loader.EventFileLoader(path).Load():
        if ev.HasField("file_version"):
            lines.append("version %s %.3f" % (ev.file_version, ev.wall_time))
        for v in ev.summary.value:
            # the loader migrates simple_value into a scalar tensor (TensorBoard's data_compat)
            x = v.simple_value if v.WhichOneof("value") == "simple_value" else tensor_util.make_ndarray(v.tensor).item()
            lines.append("scalar %s %d %.9g %.3f" % (v.tag, ev.step, x, ev.wall_time))
    return lines


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        lines = read(sys.argv[2])
        if not lines:
            sys.exit("%s: TensorBoard read no event" % sys.argv[2])
        print("\n".join(lines))
        return
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/tfevents"
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "reference.tfevents")
    write(path)
    with open(os.path.join(out, "reference.txt"), "w") as f:
        f.write("\n".join(read(path)) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
