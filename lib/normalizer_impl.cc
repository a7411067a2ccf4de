/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "normalizer_impl.h"
#include <gnuradio/filter/firdes.h>
#include <gnuradio/io_signature.h>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gr {
namespace amc {

namespace {

// The channel filter passes 0.7 symbol rates either side (roll-off up to 0.4) and is
// down by 0.9 symbol rates.
constexpr double k_cutoff = 0.7, k_transition = 0.2;
// Constant-envelope signals (CPFSK/MSK's main lobe reaches 0.75 symbol rates, GFSK's
// beyond): 1.0 either side, down by 1.3, where the band allows.
constexpr double k_wide_cutoff = 1.0, k_wide_transition = 0.3;
constexpr unsigned k_arms = 32; // polyphase arms of the resampler
constexpr double k_idle_ratio = 1.0 / 16;
constexpr double k_max_sps_in = 4096; // longer symbols need a channel filter too long

const pmt::pmt_t k_retune_key = pmt::mp("amc_retune");

void require(bool ok, const std::string& what)
{
    if (!ok) {
        throw std::invalid_argument("amc.normalizer: " + what);
    }
}

gr_complex step(double cfo)
{
    return std::polar(1.0f, static_cast<float>(-2 * M_PI * cfo));
}

} // namespace

chain::chain(
    mode m, double symbol_rate_, double cfo_, double out_sps, uint64_t start_, bool wide_)
    : kind(m),
      wide(fits_wide(wide_, symbol_rate_)),
      symbol_rate(symbol_rate_),
      ratio(m == mode::digital ? out_sps * symbol_rate_
                               : (m == mode::analog ? 1.0 : k_idle_ratio)),
      start(start_),
      cfo(cfo_)
{
    d_rot.set_phase_incr(step(cfo));
    if (kind != mode::digital) {
        return;
    }
    // Decimate by the largest integer that leaves the resampler a rate >= 1/2: the
    // FFT filter does most of the rate change, the resampler only the fraction.
    d_decim = std::max(1, static_cast<int>(std::floor(1.0 / ratio)));
    const double rs = symbol_rate;
    d_fir = std::make_unique<filter::kernel::fft_filter_ccf>(
        d_decim,
        filter::firdes::low_pass(1.0,
                                 1.0,
                                 (wide ? k_wide_cutoff : k_cutoff) * rs,
                                 (wide ? k_wide_transition : k_transition) * rs));
    const int nsamples = d_fir->set_taps(d_fir->taps()); // nsamples: the FFT's block
    d_block = nsamples * d_decim; // whole FFT blocks and whole decimation periods
    // The resampler passes the filtered band (0.9 rs, in decimated samples) and stops
    // its images (interpolating) or aliases (decimating) from the far side.
    const double r2 = ratio * d_decim,
                 band = (wide ? k_wide_cutoff + k_wide_transition
                              : k_cutoff + k_transition) *
                        rs * d_decim,
                 edge = std::min(1.0, r2);
    const double transition = std::max(0.05, edge - 2 * band);
    d_arb = std::make_unique<filter::kernel::pfb_arb_resampler_ccf>(
        static_cast<float>(r2),
        filter::firdes::low_pass(k_arms, k_arms, edge / 2, transition),
        k_arms);
    d_arm = d_arb->taps_per_filter();
    settle = static_cast<int>(std::ceil(d_fir->ntaps() * ratio + d_arm * r2));
}

bool chain::fits_wide(bool wide, double symbol_rate)
{
    return wide && symbol_rate * (k_wide_cutoff + k_wide_transition) <= 0.5;
}

void chain::set_cfo(double c)
{
    cfo = c;
    d_rot.set_phase_incr(step(c)); // phase-continuous: nothing to flag
}

void chain::end_after(uint64_t count)
{
    d_limit = count;
    // the resampler's output for decimated sample i is centred on i + (arm - 1) / 2,
    // the filter's delay on top: keep what is centred before the limit
    const double delay =
        (d_arm - 1) / 2.0 + (d_fir ? (d_fir->ntaps() - 1) / 2.0 / d_decim : 0.0);
    d_b_limit = static_cast<uint64_t>(std::max(0.0, count / double(d_decim) + delay));
}

bool chain::finished() const
{
    if (d_limit == UINT64_MAX) {
        return false;
    }
    return kind == mode::digital ? d_b_first >= d_b_limit : d_fed >= d_limit;
}

void chain::feed(const gr_complex* in, int n)
{
    if (finished()) {
        return;
    }
    if (kind != mode::digital) {
        const int keep = static_cast<int>(std::min<uint64_t>(n, d_limit - d_fed));
        d_fed += n;
        if (kind == mode::idle) {
            d_idle_acc += keep * ratio;
            const int zeros = static_cast<int>(std::floor(d_idle_acc));
            d_idle_acc -= zeros;
            out.insert(out.end(), zeros, gr_complex(0.0f, 0.0f));
            return;
        }
        d_scratch.resize(keep);
        d_rot.rotateN(d_scratch.data(), in, keep);
        out.insert(out.end(), d_scratch.begin(), d_scratch.end());
        return;
    }
    d_fed += n;
    const size_t had = d_a.size();
    d_a.resize(had + n);
    d_rot.rotateN(d_a.data() + had, in, n);
    size_t used = 0;
    while (d_a.size() - used >= static_cast<size_t>(d_block)) {
        const size_t b_had = d_b.size();
        d_b.resize(b_had + d_block / d_decim);
        d_fir->filter(d_block / d_decim, d_a.data() + used, d_b.data() + b_had);
        used += d_block;
    }
    d_a.erase(d_a.begin(), d_a.begin() + used);

    // the resampler reads arm samples from each input it steps to (and may step 2 past
    // the last): leave it enough, and nothing past the limit
    const int64_t margin = static_cast<int64_t>(d_arm) + 2;
    int64_t avail = static_cast<int64_t>(d_b.size()) - margin;
    if (d_b_limit != UINT64_MAX) {
        avail = std::min<int64_t>(avail, static_cast<int64_t>(d_b_limit - d_b_first));
    }
    if (avail <= 0) {
        return;
    }
    d_scratch.resize(static_cast<size_t>(std::ceil(avail * ratio * d_decim)) + 8);
    int n_read = 0;
    const int made =
        d_arb->filter(d_scratch.data(), d_b.data(), static_cast<int>(avail), n_read);
    out.insert(out.end(), d_scratch.begin(), d_scratch.begin() + made);
    d_b.erase(d_b.begin(), d_b.begin() + n_read);
    d_b_first += n_read;
}

normalizer::sptr normalizer::make(double samp_rate,
                                  double out_sps,
                                  double symbol_rate,
                                  double cfo,
                                  double tolerance,
                                  bool constant_envelope)
{
    return gnuradio::make_block_sptr<normalizer_impl>(
        samp_rate, out_sps, symbol_rate, cfo, tolerance, constant_envelope);
}

normalizer_impl::normalizer_impl(double samp_rate,
                                 double out_sps,
                                 double symbol_rate,
                                 double cfo,
                                 double tolerance,
                                 bool constant_envelope)
    : gr::block("normalizer",
                gr::io_signature::make(1, 1, sizeof(gr_complex)),
                gr::io_signature::make(1, 1, sizeof(gr_complex))),
      d_samp_rate(samp_rate),
      d_out_sps(out_sps),
      d_tolerance(tolerance)
{
    require(std::isfinite(samp_rate) && samp_rate > 0,
            "samp_rate " + std::to_string(samp_rate) + " must be > 0 (Hz)");
    require(std::isfinite(out_sps) && out_sps >= 2,
            "out_sps " + std::to_string(out_sps) + " must be >= 2");
    require(tolerance >= 0 && tolerance <= 0.1,
            "tolerance " + std::to_string(tolerance) + " must be in [0, 0.1]");
    check(symbol_rate, cfo);
    apply(symbol_rate, cfo, constant_envelope, 0);
    const pmt::pmt_t port = pmt::mp("estimate");
    message_port_register_in(port);
    set_msg_handler(port, [this](const pmt::pmt_t& msg) { on_estimate(msg); });
}

void normalizer_impl::check(double symbol_rate, double cfo) const
{
    require(std::isfinite(cfo) && std::abs(cfo) < d_samp_rate / 2,
            "cfo " + std::to_string(cfo) + " Hz must be within +-samp_rate/2");
    require(std::isfinite(symbol_rate), "symbol_rate must be finite");
    if (symbol_rate > 0) {
        require(symbol_rate * (k_cutoff + k_transition) <= d_samp_rate / 2,
                "symbol_rate " + std::to_string(symbol_rate) +
                    " Hz: the signal's band is wider than the sampled band");
        require(d_samp_rate / symbol_rate <= k_max_sps_in,
                "symbol_rate " + std::to_string(symbol_rate) + " Hz: more than " +
                    std::to_string(int(k_max_sps_in)) + " samples per symbol");
    }
}

void normalizer_impl::set_signal(double symbol_rate, double cfo, bool wide)
{
    check(symbol_rate, cfo);
    std::lock_guard<std::mutex> lock(d_mutex);
    d_pending = std::make_tuple(symbol_rate, cfo, wide);
}

void normalizer_impl::on_estimate(const pmt::pmt_t& msg)
{
    // a message must never stop the flowgraph: a bad one is logged and left
    try {
        require(pmt::is_dict(msg), "an estimate message must be a dict");
        const auto num = [&](const char* key) {
            const pmt::pmt_t v = pmt::dict_ref(msg, pmt::mp(key), pmt::PMT_NIL);
            return pmt::is_number(v) ? pmt::to_double(v) : 0.0;
        };
        const pmt::pmt_t kind = pmt::dict_ref(msg, pmt::mp("kind"), pmt::PMT_NIL);
        require(pmt::is_symbol(kind), "an estimate message needs a kind");
        // in Hz at the estimator's rate, or cycles/sample where it had none
        const double rate = num("samp_rate");
        const double scale = rate > 0 ? d_samp_rate / rate : d_samp_rate;
        const std::string k = pmt::symbol_to_string(kind);
        const double rs = num("symbol_rate_hz") * scale, cfo = num("cfo_hz") * scale;
        if (k == "none") {
            set_signal(0.0, 0.0, false);
        } else if (rs > 0) {
            set_signal(rs, cfo, k == "constant_envelope");
        } else {
            set_signal(-1.0, cfo, false);
        }
    } catch (const std::exception& e) {
        d_logger->warn("estimate message left: {}", e.what());
    }
}

void normalizer_impl::apply(double symbol_rate, double cfo, bool wide, uint64_t at)
{
    const mode m =
        symbol_rate > 0 ? mode::digital : (symbol_rate < 0 ? mode::analog : mode::idle);
    const double rs = m == mode::digital ? symbol_rate / d_samp_rate : 0.0;
    if (!d_chains.empty()) {
        chain& last = d_chains.back();
        const bool same =
            last.kind == m && last.wide == chain::fits_wide(wide, rs) &&
            (m != mode::digital || std::abs(rs / last.symbol_rate - 1) <= d_tolerance);
        if (same) {
            last.set_cfo(cfo / d_samp_rate);
            d_cfo.store(cfo);
            return;
        }
        last.end_after(at - last.start);
    }
    d_chains.emplace_back(m, rs, cfo / d_samp_rate, d_out_sps, at, wide);
    if (d_chains.size() == 1) {
        d_tag_front = true;
        set_relative_rate(d_chains.front().ratio);
    }
    d_retunes += at > 0;
    d_symbol_rate.store(m == mode::digital ? symbol_rate
                                           : (m == mode::analog ? -1.0 : 0.0));
    d_cfo.store(cfo);
    d_ratio.store(d_chains.back().ratio);
}

void normalizer_impl::forecast(int noutput_items, gr_vector_int& ninput_items_required)
{
    // output waiting in the front chain needs no input
    const bool waiting = !d_chains.empty() && d_chains.front().out.size() >=
                                                  static_cast<size_t>(noutput_items);
    ninput_items_required[0] = waiting ? 0 : 1;
}

int normalizer_impl::general_work(int noutput_items,
                                  gr_vector_int& ninput_items,
                                  gr_vector_const_void_star& input_items,
                                  gr_vector_void_star& output_items)
{
    const auto* in = static_cast<const gr_complex*>(input_items[0]);
    auto* out = static_cast<gr_complex*>(output_items[0]);
    std::optional<std::tuple<double, double, bool>> pending;
    {
        std::lock_guard<std::mutex> lock(d_mutex);
        pending.swap(d_pending);
    }
    if (pending) {
        apply(std::get<0>(*pending),
              std::get<1>(*pending),
              std::get<2>(*pending),
              nitems_read(0));
    }
    // take input only while the front chain's backlog is small
    int n_in = 0;
    if (d_chains.front().out.size() < static_cast<size_t>(noutput_items)) {
        n_in = ninput_items[0];
        for (auto& c : d_chains) {
            c.feed(in, n_in);
        }
        if (d_chains.back().kind == mode::idle) {
            d_idle += n_in;
        }
        consume_each(n_in);
    }

    int made = 0;
    while (made < noutput_items) {
        chain& c = d_chains.front();
        if (d_tag_front && !c.out.empty()) {
            d_tag_front = false;
            if (c.kind != mode::idle) {
                pmt::pmt_t info = pmt::make_dict();
                info = pmt::dict_add(info,
                                     pmt::mp("symbol_rate"),
                                     pmt::from_double(c.symbol_rate * d_samp_rate));
                info = pmt::dict_add(
                    info, pmt::mp("cfo"), pmt::from_double(c.cfo * d_samp_rate));
                info = pmt::dict_add(info, pmt::mp("ratio"), pmt::from_double(c.ratio));
                info = pmt::dict_add(
                    info, pmt::mp("rate"), pmt::from_double(c.ratio * d_samp_rate));
                info = pmt::dict_add(info, pmt::mp("settle"), pmt::from_long(c.settle));
                info = pmt::dict_add(
                    info, pmt::mp("input_offset"), pmt::from_uint64(c.start));
                add_item_tag(
                    0, nitems_written(0) + made, k_retune_key, info, alias_pmt());
            }
        }
        const int n =
            static_cast<int>(std::min<size_t>(noutput_items - made, c.out.size()));
        std::copy(c.out.begin(), c.out.begin() + n, out + made);
        c.out.erase(c.out.begin(), c.out.begin() + n);
        made += n;
        if (!c.out.empty() || !c.finished() || d_chains.size() == 1) {
            break;
        }
        d_chains.pop_front(); // all its output is out: the next chain's turn
        d_tag_front = true;
        set_relative_rate(d_chains.front().ratio);
    }
    return made;
}

} // namespace amc
} // namespace gr
