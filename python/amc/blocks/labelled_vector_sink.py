# SPDX-License-Identifier: GPL-3.0-or-later
"""A GNU Radio sink that writes labelled I/Q vectors to an RML2018.01a-style HDF5 file."""

from __future__ import annotations

import os

import numpy as np
from gnuradio import gr

from .._version import __version__
from ..datasets import generate as dataset
from ..runtime import waveforms
from ..runtime.atomic import AtomicFile, check_output


class labelled_vector_sink(gr.sync_block):
    """Collects `count` I/Q vectors of shape (length, 2) (a vectorizer with
    representation iq, layout channels_last) and writes them with their label to
    `path` (X, Y, Z and attributes as `amc dataset generate` writes them).

    The file is written atomically when `count` vectors have arrived (the flowgraph
    then finishes) or, with what has arrived, when the flowgraph stops earlier.
    Vectors tagged amc_flag (NaN/Inf or silent windows) are skipped and counted.
    """

    def __init__(
        self,
        path: str = "dataset.h5",
        length: int = 128,
        modulation: str = "QPSK",
        classes: str = "rml2016.10a",
        esn0_db: int = 10,
        sps: int = 8,
        count: int = 1000,
        overwrite: bool = False,
    ):
        gr.sync_block.__init__(self, "labelled_vector_sink", in_sig=[(np.float32, 2 * length)], out_sig=None)
        class_list = (
            dataset.PRESETS[classes].classes if classes in dataset.PRESETS else tuple(classes.split())
        )
        if modulation not in class_list:
            raise ValueError(f"modulation {modulation!r} is not in classes: {' '.join(class_list)}")
        waveforms.check_params(sps=sps)
        if count < 1:
            raise ValueError(f"count {count} must be >= 1")
        check_output(path, overwrite)
        self.path, self.length, self.count = path, length, count
        self.modulation, self.classes, self.esn0_db, self.sps = modulation, class_list, esn0_db, sps
        self.vectors = np.zeros((count, length, 2), np.float32)
        self.received = 0
        self.skipped = 0
        self.written = False

    def work(self, input_items, output_items):
        x = input_items[0]
        flagged = {
            t.offset - self.nitems_read(0)
            for t in self.get_tags_in_window(0, 0, len(x))
            if str(t.key) == "amc_flag"  # pmt symbols print as their name
        }
        keep = [i for i in range(len(x)) if i not in flagged][: self.count - self.received]
        self.skipped += len(flagged)
        self.vectors[self.received : self.received + len(keep)] = x[keep].reshape(-1, self.length, 2)
        self.received += len(keep)
        if self.received >= self.count:
            self._write()
            return -1  # WORK_DONE
        return len(x)

    def stop(self):
        if self.received and not self.written:
            self._write()
        return True

    def _write(self):
        import h5py

        n = self.received
        snr_db = self.esn0_db - 10 * np.log10(self.sps)
        with AtomicFile(self.path) as tmp, h5py.File(tmp, "w", libver="v110") as f:
            f.attrs.update(
                {
                    "classes": list(self.classes),
                    "sps": [self.sps],
                    "lengths": [self.length],
                    "snrs": [self.esn0_db],
                    "snr_definition": dataset.SNR_DEFINITION,
                    "generator": f"gr-amc {__version__} labelled_vector_sink",
                }
            )
            out = dataset.Hdf5Vectors(f, n, self.length, len(self.classes))
            out.append(
                self.vectors[:n],
                self.classes.index(self.modulation),
                self.esn0_db,
                self.sps,
                snr_db,
                self.esn0_db,
            )
        self.written = True
        where = os.path.abspath(self.path)
        self.logger.info(f"wrote {n} {self.modulation} vectors to {where} ({self.skipped} flagged skipped)")
