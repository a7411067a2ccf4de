/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_SIGNAL_ESTIMATOR_H
#define INCLUDED_AMC_SIGNAL_ESTIMATOR_H

#include <gnuradio/amc/api.h>
#include <gnuradio/sync_block.h>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gr {
namespace amc {

/*!
 * \brief What a blind estimate found; frequencies in cycles per sample.
 * \ingroup amc
 */
struct AMC_API signal_estimate {
    //! "linear" (single-carrier PSK/PAM/QAM), "constant_envelope" (FSK, FM),
    //! "analog" (a signal without a symbol rate) or "none" (no signal).
    std::string kind = "none";
    double cfo = 0.0;         //!< carrier offset
    double bandwidth = 0.0;   //!< occupied bandwidth
    double symbol_rate = 0.0; //!< 0 for analog and none
    //! Per-sample SNR in dB: signal power over the noise power per sample (whole
    //! band); -inf for none.
    double snr_db = 0.0;
    //! Strength of the symbol-rate line (its peak over the median around it): the
    //! confidence of symbol_rate; 8 and more is a line.
    double line = 0.0;
    //! Two signals in the band, a signal at the band edge or wider than it.
    std::vector<std::string> warnings;
};

/*!
 * \brief Blind estimates of the dominant signal of a complex stream, re-made as it
 * runs, as stream tags and messages; the samples pass through unchanged.
 * \ingroup amc
 *
 * \details
 * Every \p interval samples the last \p span samples are estimated (estimate()): the
 * kind, carrier offset, occupied bandwidth, symbol rate and per-sample SNR; symbol
 * rate and carrier are smoothed as the median of the last \p smooth estimates of the
 * same kind. Each estimate tags the sample where it was made: \c amc_signal (the
 * kind), \c amc_symbol_rate, \c amc_cfo, \c amc_bandwidth (Hz with samp_rate, else
 * cycles per sample) and \c amc_snr (dB; -300 for no signal), and leaves on the
 * message port \c estimate as a dict: kind, symbol_rate_hz (nil without one), cfo_hz,
 * bandwidth_hz, snr_db, line, warnings (logged once each), offset (the sample) and
 * samp_rate: what amc.normalizer follows. Non-finite samples count as silence.
 *
 * estimate() finds the occupied band in a Welch power spectrum (1024 bins) over a noise
 * floor taken from its quietest fifth; the carrier offset is the power-weighted centre
 * of that band. The symbol rate is the cyclostationary line of the band-filtered
 * squared envelope |x|^2 (linear modulations with excess bandwidth) or of the squared
 * instantaneous frequency and of its squared jumps (FSK), refined between FFT bins by
 * Jacobsen's estimator; the fourth-moment ratio E|s|^4/(E|s|^2)^2 of the signal (noise
 * taken out) tells constant-envelope signals (1) from linear ones (1.19 and up). FFTs
 * through GNU Radio's fft (FFTW).
 *
 * \note Throws std::invalid_argument naming the parameter when one is out of range.
 */
class AMC_API signal_estimator : virtual public gr::sync_block
{
public:
    typedef std::shared_ptr<signal_estimator> sptr;

    //! Fewer samples cannot be estimated.
    static constexpr size_t min_samples = 4096;
    //! An estimate looks at this many samples at most (FFTW's first planning of
    //! longer FFTs takes tens of seconds).
    static constexpr size_t max_samples = size_t(1) << 18;

    /*!
     * \param samp_rate Hz (0: frequencies in cycles per sample).
     * \param span samples each estimate looks at (min_samples .. max_samples; the
     *        last 2^k, 1.25 * 2^k or 1.5 * 2^k of them are estimated).
     * \param interval samples between estimates (0: one second at samp_rate, else 16
     *        spans).
     * \param smooth estimates whose median is published (>= 1).
     */
    static sptr
    make(double samp_rate = 0.0, int span = 65536, int interval = 0, int smooth = 3);

    /*!
     * One estimate of the first max_samples of x[0..n) (of the longest prefix of
     * 2^k, 1.25 * 2^k or 1.5 * 2^k samples, the FFT sizes FFTW plans fast). Throws
     * std::invalid_argument with fewer than min_samples.
     */
    static signal_estimate estimate(const gr_complex* x, size_t n);

    //! Estimates published since the start.
    virtual uint64_t estimates() const = 0;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_SIGNAL_ESTIMATOR_H */
