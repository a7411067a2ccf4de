/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_NORMALIZER_H
#define INCLUDED_AMC_NORMALIZER_H

#include <gnuradio/amc/api.h>
#include <gnuradio/block.h>
#include <cstdint>

namespace gr {
namespace amc {

/*!
 * \brief Brings one signal to what a model expects: centred, filtered to its band and
 * at \p out_sps samples per symbol, following blind estimates as they change.
 * \ingroup amc
 *
 * \details
 * A chain of GNU Radio's own kernels: a rotator (blocks::rotator) shifts the carrier
 * offset to 0; an FFT filter (filter::kernel::fft_filter_ccf) keeps 0.7 symbol rates
 * either side (down by 0.9; constant-envelope signals 1.0, down by 1.3) and decimates by
 * the largest integer that keeps the resampler's rate at or above 1/2; a polyphase
 * arbitrary resampler (filter::kernel::pfb_arb_resampler_ccf) makes the rate exact.
 *
 * Settings come from set_signal() or as a dict on the message port \c estimate (what
 * amc.signal_estimator publishes: kind (constant_envelope widens the filter),
 * symbol_rate_hz, cfo_hz, samp_rate; with samp_rate 0 the values are in cycles per
 * sample). A setting is taken only when it differs from the current one by more than \p
 * tolerance (relative symbol rate, or carrier offset in symbol rates), so the smoothed
 * estimates of a steady signal leave the chain alone.
 *
 * A new setting starts a new chain at the input sample where it is taken; the old
 * chain goes on until it has turned every sample before that point into output, so no
 * input is lost or resampled twice. The first output sample of the new chain carries
 * the tag \c amc_retune (a dict: symbol_rate, cfo, ratio, settle = the output samples
 * the new chain's filters need to fill); amc.classifier flags windows starting within
 * settle of it as settling and amc.decision starts again from "unknown".
 *
 * Signals without a symbol rate (analog, or kind "none": no signal) give no setting of
 * their own: analog ones are shifted to the centre at ratio 1 (the band they came
 * with), and while there is no signal (also before the first estimate) the output is
 * zeros at the idle ratio 1/16, which the vectorizer flags as silent: nothing is
 * classified and every window is still accounted for.
 *
 * \note Throws std::invalid_argument naming the parameter when one is out of range.
 */
class AMC_API normalizer : virtual public gr::block
{
public:
    typedef std::shared_ptr<normalizer> sptr;

    /*!
     * \param samp_rate input sample rate in Hz (> 0).
     * \param out_sps samples per symbol at the output (the model's, >= 2).
     * \param symbol_rate initial symbol rate in Hz (0: none yet, the output is idle).
     * \param cfo initial carrier offset in Hz (|cfo| < samp_rate / 2).
     * \param tolerance smallest change that is taken (0 .. 0.1).
     * \param constant_envelope the initial signal is FSK-like: a wider channel filter.
     */
    static sptr make(double samp_rate,
                     double out_sps = 8.0,
                     double symbol_rate = 0.0,
                     double cfo = 0.0,
                     double tolerance = 0.005,
                     bool constant_envelope = false);

    /*!
     * Symbol rate and carrier offset in Hz, taken at the next input sample (symbol_rate
     * 0: no signal, the output goes idle; < 0: analog, centred at ratio 1). Throws
     * std::invalid_argument when the signal does not fit the sampled band.
     * constant_envelope: FSK-like, filtered to 1.0 symbol rates either side (down by
     * 1.3) where the band allows, instead of 0.7 (down by 0.9).
     */
    virtual void
    set_signal(double symbol_rate, double cfo, bool constant_envelope = false) = 0;

    //! The symbol rate now in use (Hz; 0 idle, -1 analog).
    virtual double symbol_rate() const = 0;
    //! The carrier offset now in use (Hz).
    virtual double cfo() const = 0;
    //! Output samples per input sample now.
    virtual double ratio() const = 0;
    //! Settings taken (retunes) since the start.
    virtual uint64_t retunes() const = 0;
    //! Input samples turned into zeros because there was no signal.
    virtual uint64_t idle_samples() const = 0;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_NORMALIZER_H */
