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


static const char* __doc_gr_amc_normalizer = R"doc()doc";


static const char* __doc_gr_amc_normalizer_normalizer_0 = R"doc()doc";


static const char* __doc_gr_amc_normalizer_normalizer_1 = R"doc()doc";


static const char* __doc_gr_amc_normalizer_make = R"doc()doc";


static const char* __doc_gr_amc_normalizer_set_signal = R"doc()doc";


static const char* __doc_gr_amc_normalizer_symbol_rate = R"doc()doc";


static const char* __doc_gr_amc_normalizer_cfo = R"doc()doc";


static const char* __doc_gr_amc_normalizer_ratio = R"doc()doc";


static const char* __doc_gr_amc_normalizer_retunes = R"doc()doc";


static const char* __doc_gr_amc_normalizer_idle_samples = R"doc()doc";
