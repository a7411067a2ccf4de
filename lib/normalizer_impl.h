/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_NORMALIZER_IMPL_H
#define INCLUDED_AMC_NORMALIZER_IMPL_H

#include <gnuradio/amc/normalizer.h>
#include <gnuradio/blocks/rotator.h>
#include <gnuradio/filter/fft_filter.h>
#include <gnuradio/filter/pfb_arb_resampler.h>
#include <volk/volk_alloc.hh>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

namespace gr {
namespace amc {

//! What a chain does with the samples it is given.
enum class mode { idle, analog, digital };

//! One setting's rotator, channel filter and resampler, with the samples in between.
class chain
{
public:
    //! symbol_rate and cfo in cycles per input sample.
    //! wide: a constant-envelope signal, whose band reaches further than 0.7 symbol
    //! rates.
    chain(mode m,
          double symbol_rate,
          double cfo,
          double out_sps,
          uint64_t start,
          bool wide);

    //! Takes n input samples (the next after those given before).
    void feed(const gr_complex* in, int n);
    //! Stops the output after the output for the first `count` input samples.
    void end_after(uint64_t count);
    //! Whether all the output it will make is in out.
    bool finished() const;
    void set_cfo(double cfo);
    //! Whether a wide filter was asked for and fits the band.
    static bool fits_wide(bool wide, double symbol_rate);

    const mode kind;
    const bool wide;
    const double symbol_rate, ratio; // cycles/sample; output per input sample
    const uint64_t start;            // the input sample where the chain starts
    int settle = 0;                  // output samples its filters need to fill
    double cfo;
    std::deque<gr_complex> out; // output not yet sent

private:
    int d_decim = 1;
    blocks::rotator d_rot;
    std::unique_ptr<filter::kernel::fft_filter_ccf> d_fir;
    std::unique_ptr<filter::kernel::pfb_arb_resampler_ccf> d_arb;
    int d_block = 0;             // input samples per FFT-filter call
    unsigned d_arm = 1;          // taps per polyphase arm
    std::vector<gr_complex> d_a; // rotated input waiting for the filter
    // filtered, decimated samples waiting for the resampler; VOLK-aligned because the
    // resampler's FIR kernels read from the input address rounded down to the alignment
    // (zero taps there): memory before an unaligned buffer can hold NaN, and 0 * NaN is
    // NaN
    volk::vector<gr_complex> d_b;
    std::vector<gr_complex> d_scratch;
    uint64_t d_fed = 0;              // input samples taken
    uint64_t d_b_first = 0;          // index of d_b[0] among the decimated samples
    uint64_t d_limit = UINT64_MAX;   // input samples to turn into output
    uint64_t d_b_limit = UINT64_MAX; // decimated samples whose output is kept
    double d_idle_acc = 0.0;         // fractional output sample of the idle mode
};

class normalizer_impl : public normalizer
{
private:
    const double d_samp_rate, d_out_sps, d_tolerance;
    std::deque<chain> d_chains; // the front one is sending, later ones wait their turn
    bool d_tag_front = false;   // the front chain's first output still needs its tag
    std::mutex d_mutex;         // guards d_pending (set from the message thread)
    std::optional<std::tuple<double, double, bool>>
        d_pending; // (symbol_rate, cfo) in Hz, wide
    std::atomic<double> d_symbol_rate{ 0.0 }, d_cfo{ 0.0 }, d_ratio{ 0.0 };
    std::atomic<uint64_t> d_retunes{ 0 }, d_idle{ 0 };

    void apply(double symbol_rate, double cfo, bool wide, uint64_t at);
    void on_estimate(const pmt::pmt_t& msg);
    void check(double symbol_rate, double cfo) const;

public:
    normalizer_impl(double samp_rate,
                    double out_sps,
                    double symbol_rate,
                    double cfo,
                    double tolerance,
                    bool constant_envelope);

    void set_signal(double symbol_rate, double cfo, bool constant_envelope) override;
    double symbol_rate() const override { return d_symbol_rate.load(); }
    double cfo() const override { return d_cfo.load(); }
    double ratio() const override { return d_ratio.load(); }
    uint64_t retunes() const override { return d_retunes.load(); }
    uint64_t idle_samples() const override { return d_idle.load(); }

    void forecast(int noutput_items, gr_vector_int& ninput_items_required) override;
    int general_work(int noutput_items,
                     gr_vector_int& ninput_items,
                     gr_vector_const_void_star& input_items,
                     gr_vector_void_star& output_items) override;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_NORMALIZER_IMPL_H */
