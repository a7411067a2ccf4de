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


static const char* __doc_gr_amc_vectorizer = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_vectorizer_0 = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_vectorizer_1 = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_make = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_window = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_hop = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_vlen = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_windows_out = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_nonfinite_windows = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_silent_windows = R"doc()doc";


static const char* __doc_gr_amc_vectorizer_power_tags = R"doc()doc";
