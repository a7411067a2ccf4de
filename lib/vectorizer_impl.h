/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_VECTORIZER_IMPL_H
#define INCLUDED_AMC_VECTORIZER_IMPL_H

#include "window_transform.h"
#include <gnuradio/amc/vectorizer.h>
#include <atomic>
#include <deque>
#include <vector>

namespace gr {
namespace amc {

class vectorizer_impl : public vectorizer
{
private:
    window_transform d_xform;
    const int d_hop;
    const bool d_power_tags;
    // Upstream tags move to the vector whose span ends at start + min(hop, window).
    const int d_span;

    // Windows too long for the input buffer are assembled here across calls;
    // empty when windows are read in place.
    std::vector<gr_complex> d_carry;
    int d_fill = 0;
    uint64_t d_skip = 0; // samples still to drop before the next window (hop > window)
    uint64_t d_next_start = 0; // absolute input offset of the next window's first sample

    uint64_t d_tags_fetched = 0;     // upstream tags before this offset are in d_pending
    std::deque<gr::tag_t> d_pending; // fetched upstream tags not yet written out

    std::atomic<uint64_t> d_windows{ 0 };
    std::atomic<uint64_t> d_nonfinite{ 0 };
    std::atomic<uint64_t> d_silent{ 0 };

    const pmt::pmt_t d_window_key;
    const pmt::pmt_t d_flag_key;
    const pmt::pmt_t d_nonfinite_val;
    const pmt::pmt_t d_silent_val;
    const pmt::pmt_t d_power_key;
    const pmt::pmt_t d_spec_key;
    const pmt::pmt_t d_spec; // window and representation, tagged on the first vector
    const pmt::pmt_t d_srcid;

    void fetch_tags(uint64_t upto);
    void emit(const gr_complex* in, float* out, uint64_t out_offset);

public:
    //! \p xform carries the validated window parameters; hop is checked by make().
    vectorizer_impl(window_transform&& xform, int hop, bool power_tags, pmt::pmt_t spec);

    void forecast(int noutput_items, gr_vector_int& ninput_items_required) override;
    int general_work(int noutput_items,
                     gr_vector_int& ninput_items,
                     gr_vector_const_void_star& input_items,
                     gr_vector_void_star& output_items) override;

    int window() const override { return d_xform.window(); }
    int hop() const override { return d_hop; }
    int vlen() const override { return d_xform.vlen(); }
    uint64_t windows_out() const override { return d_windows.load(); }
    uint64_t nonfinite_windows() const override { return d_nonfinite.load(); }
    uint64_t silent_windows() const override { return d_silent.load(); }
    bool power_tags() const override { return d_power_tags; }
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_VECTORIZER_IMPL_H */
