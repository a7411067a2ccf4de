/*
 * Copyright 2026 Free Software Foundation, Inc.
 *
 * This file is part of GNU Radio
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 */
#include "pydoc_macros.h"
#define D(...) DOC(gr, amc, __VA_ARGS__)
/*
  This file contains placeholders for docstrings for the Python bindings.
  Do not edit! These were automatically extracted during the binding process
  and will be overwritten during the build process
 */


static const char* __doc_gr_amc_channel_detector = R"doc()doc";


static const char* __doc_gr_amc_channel_detector_channel_detector_0 = R"doc()doc";


static const char* __doc_gr_amc_channel_detector_channel_detector_1 = R"doc()doc";


static const char* __doc_gr_amc_channel_detector_make = R"doc()doc";


static const char* __doc_gr_amc_channel_detector_frames = R"doc()doc";


static const char* __doc_gr_amc_channel_detector_noise_floor_db = R"doc()doc";


static const char* __doc_gr_amc_channel_detector_signals_found = R"doc()doc";


static const char* __doc_gr_amc_channel_detector_active = R"doc()doc";


static const char* __doc_gr_amc_channel_detector_tracked = R"doc()doc";
