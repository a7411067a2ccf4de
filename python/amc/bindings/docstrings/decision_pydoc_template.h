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


static const char* __doc_gr_amc_decision = R"doc()doc";


static const char* __doc_gr_amc_decision_decision_0 = R"doc()doc";


static const char* __doc_gr_amc_decision_decision_1 = R"doc()doc";


static const char* __doc_gr_amc_decision_make = R"doc()doc";


static const char* __doc_gr_amc_decision_threshold = R"doc()doc";


static const char* __doc_gr_amc_decision_set_threshold = R"doc()doc";


static const char* __doc_gr_amc_decision_hysteresis = R"doc()doc";


static const char* __doc_gr_amc_decision_set_hysteresis = R"doc()doc";


static const char* __doc_gr_amc_decision_k = R"doc()doc";


static const char* __doc_gr_amc_decision_set_k = R"doc()doc";


static const char* __doc_gr_amc_decision_max_rate = R"doc()doc";


static const char* __doc_gr_amc_decision_set_max_rate = R"doc()doc";


static const char* __doc_gr_amc_decision_classes = R"doc()doc";


static const char* __doc_gr_amc_decision_label = R"doc()doc";


static const char* __doc_gr_amc_decision_confidence = R"doc()doc";


static const char* __doc_gr_amc_decision_windows_seen = R"doc()doc";


static const char* __doc_gr_amc_decision_decisions = R"doc()doc";


static const char* __doc_gr_amc_decision_unknown_windows = R"doc()doc";


static const char* __doc_gr_amc_decision_noise_windows = R"doc()doc";


static const char* __doc_gr_amc_decision_skipped_windows = R"doc()doc";


static const char* __doc_gr_amc_decision_messages = R"doc()doc";


static const char* __doc_gr_amc_decision_suppressed_messages = R"doc()doc";
