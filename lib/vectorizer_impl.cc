/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "vectorizer_impl.h"
#include <gnuradio/io_signature.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace gr {
namespace amc {

namespace {
// Largest input request forecast() makes. GNU Radio's default stream buffer for
// gr_complex holds 4096 items; asking for more than a buffer holds stalls the
// graph, so windows longer than this are assembled across calls in d_carry.
constexpr int k_max_request = 2048;

// Flagged windows are logged at counts 1, 2, 4, 8, ...: a stream of bad samples
// cannot flood the log.
bool is_power_of_two(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }
} // namespace

vectorizer::sptr vectorizer::make(int window,
                                  int hop,
                                  const std::string& representation,
                                  const std::string& layout,
                                  const std::string& normalization,
                                  int fft_size,
                                  int fft_avg,
                                  bool power_tags)
{
    if (hop < 1) {
        throw std::invalid_argument("amc.vectorizer: hop " + std::to_string(hop) +
                                    " must be >= 1 (hop == window: contiguous, "
                                    "< window: overlap, > window: decimate)");
    }
    window_transform xform(
        window, representation, layout, normalization, fft_size, fft_avg);
    // What the vectors are, for a classifier downstream to check against its model.
    pmt::pmt_t spec = pmt::make_dict();
    spec = pmt::dict_add(spec, pmt::mp("window"), pmt::from_long(window));
    spec = pmt::dict_add(spec, pmt::mp("representation"), pmt::mp(representation));
    spec = pmt::dict_add(spec, pmt::mp("layout"), pmt::mp(layout));
    spec = pmt::dict_add(spec, pmt::mp("normalization"), pmt::mp(normalization));
    return gnuradio::make_block_sptr<vectorizer_impl>(
        std::move(xform), hop, power_tags, spec);
}

vectorizer_impl::vectorizer_impl(window_transform&& xform,
                                 int hop,
                                 bool power_tags,
                                 pmt::pmt_t spec)
    : gr::block("vectorizer",
                gr::io_signature::make(1, 1, sizeof(gr_complex)),
                gr::io_signature::make(1, 1, sizeof(float) * xform.vlen())),
      d_xform(std::move(xform)),
      d_hop(hop),
      d_power_tags(power_tags),
      d_span(std::min(hop, d_xform.window())),
      d_carry(d_xform.window() > k_max_request ? d_xform.window() : 0),
      d_window_key(pmt::intern("amc_window")),
      d_flag_key(pmt::intern("amc_flag")),
      d_nonfinite_val(pmt::intern("nonfinite")),
      d_silent_val(pmt::intern("silent")),
      d_power_key(pmt::intern("amc_power")),
      d_spec_key(pmt::intern("amc_spec")),
      d_spec(spec),
      d_srcid(pmt::intern(alias()))
{
    set_relative_rate(1, static_cast<uint64_t>(hop));
    // Upstream tags are moved window by window in emit(), each exactly once.
    set_tag_propagation_policy(TPP_DONT);
}

void vectorizer_impl::forecast(int noutput_items, gr_vector_int& ninput_items_required)
{
    const uint64_t need = d_skip + (d_xform.window() - d_fill) +
                          static_cast<uint64_t>(noutput_items - 1) * d_hop;
    ninput_items_required[0] = static_cast<int>(std::min<uint64_t>(need, k_max_request));
}

void vectorizer_impl::fetch_tags(uint64_t upto)
{
    if (upto <= d_tags_fetched) {
        return;
    }
    std::vector<gr::tag_t> tags;
    get_tags_in_range(tags, 0, d_tags_fetched, upto);
    std::sort(tags.begin(), tags.end(), gr::tag_t::offset_compare);
    d_pending.insert(d_pending.end(), tags.begin(), tags.end());
    d_tags_fetched = upto;
}

void vectorizer_impl::emit(const gr_complex* in, float* out, uint64_t out_offset)
{
    const uint64_t start = d_next_start;
    const uint64_t span_end = start + d_span;
    while (!d_pending.empty() && d_pending.front().offset < span_end) {
        const gr::tag_t& t = d_pending.front();
        add_item_tag(0, out_offset, t.key, t.value, t.srcid);
        d_pending.pop_front();
    }
    add_item_tag(0, out_offset, d_window_key, pmt::from_uint64(start), d_srcid);
    if (d_windows == 0) {
        add_item_tag(0, out_offset, d_spec_key, d_spec, d_srcid);
    }

    switch (d_xform.transform(in, out)) {
    case window_transform::verdict::ok:
        if (d_power_tags) {
            const double power = d_xform.energy() / d_xform.window();
            add_item_tag(0,
                         out_offset,
                         d_power_key,
                         pmt::from_double(10.0 * std::log10(power)),
                         d_srcid);
        }
        break;
    case window_transform::verdict::nonfinite: {
        const uint64_t count = ++d_nonfinite;
        add_item_tag(0, out_offset, d_flag_key, d_nonfinite_val, d_srcid);
        if (is_power_of_two(count)) {
            d_logger->warn("window at input offset {:d} holds NaN/Inf samples; output as "
                           "zeros ({:d} such windows so far)",
                           start,
                           count);
        }
        break;
    }
    case window_transform::verdict::silent: {
        const uint64_t count = ++d_silent;
        add_item_tag(0, out_offset, d_flag_key, d_silent_val, d_srcid);
        if (is_power_of_two(count)) {
            d_logger->info(
                "window at input offset {:d} is silent (zero energy); output as "
                "zeros ({:d} such windows so far)",
                start,
                count);
        }
        break;
    }
    }
    d_windows++;
    d_next_start += d_hop;
}

int vectorizer_impl::general_work(int noutput_items,
                                  gr_vector_int& ninput_items,
                                  gr_vector_const_void_star& input_items,
                                  gr_vector_void_star& output_items)
{
    const auto* in = static_cast<const gr_complex*>(input_items[0]);
    auto* out = static_cast<float*>(output_items[0]);
    const int n = d_xform.window();
    const int vlen = d_xform.vlen();
    const int avail = ninput_items[0];
    const uint64_t read0 = nitems_read(0);
    const uint64_t written0 = nitems_written(0);

    // One tag look-up per call: every tag up to the end of the visible input
    // waits in d_pending for the window it belongs to.
    fetch_tags(read0 + avail);

    int pos = 0; // input samples consumed so far in this call
    int produced = 0;
    while (produced < noutput_items) {
        if (d_skip > 0) {
            const int drop = static_cast<int>(std::min<uint64_t>(d_skip, avail - pos));
            pos += drop;
            d_skip -= drop;
            if (d_skip > 0) {
                break;
            }
        }
        float* vec = out + static_cast<size_t>(produced) * vlen;
        if (d_carry.empty()) {
            // The window is read where it lies; samples of later windows stay
            // unconsumed in the input buffer.
            if (avail - pos < n) {
                break;
            }
            emit(in + pos, vec, written0 + produced);
            pos += std::min(d_hop, n);
            d_skip = d_hop > n ? d_hop - n : 0;
        } else {
            const int take = std::min(n - d_fill, avail - pos);
            std::memcpy(&d_carry[d_fill], in + pos, take * sizeof(gr_complex));
            d_fill += take;
            pos += take;
            if (d_fill < n) {
                break;
            }
            emit(d_carry.data(), vec, written0 + produced);
            if (d_hop < n) {
                std::memmove(d_carry.data(),
                             d_carry.data() + d_hop,
                             (n - d_hop) * sizeof(gr_complex));
                d_fill = n - d_hop;
            } else {
                d_fill = 0;
                d_skip = d_hop - n;
            }
        }
        produced++;
    }

    consume(0, pos);
    return produced;
}

} // namespace amc
} // namespace gr
