/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_VECTORIZER_H
#define INCLUDED_AMC_VECTORIZER_H

#include <gnuradio/amc/api.h>
#include <gnuradio/block.h>
#include <cstdint>
#include <string>

namespace gr {
namespace amc {

/*!
 * \brief Cuts a complex sample stream into windows and turns each into a float
 * vector ready for a modulation classifier.
 * \ingroup amc
 *
 * \details
 * Every \p hop input samples a window of \p window samples starts; each window
 * becomes one output vector. hop == window gives contiguous windows, hop < window
 * overlapping ones, and hop > window keeps one window in every hop samples.
 *
 * Each window is first scaled by its \p normalization, then transformed:
 * - "iq": the scaled samples as float pairs. Layout "channels_last" is the (N, 2)
 *   array of RML2018.01a (I0 Q0 I1 Q1 ...), "channels_first" the (2, N) array of
 *   RML2016.10a (I0 .. IN-1 Q0 .. QN-1). Output length 2N.
 * - "amp_phase": amplitude |x| of the scaled samples (with "l2", the unit-norm
 *   amplitude of 004) and phase atan2(Q, I) / pi in [-1, 1], in the chosen
 *   layout. Output length 2N.
 * - "mag_fft": the window is split into \p fft_avg consecutive segments of
 *   \p fft_size samples; the output is the mean over segments of |FFT(segment)|,
 *   shifted so that DC sits at index fft_size / 2. Output length fft_size.
 *
 * Normalizations (per window, on the complex samples): "none"; "l2" (unit energy,
 * sum |x|^2 = 1); "rms" (mean |x|^2 = 1); "peak" (max |x| = 1); "l1"
 * (x / sum |x|, the original RML2016 generator's scaling).
 *
 * Tags: every output vector carries the tag \c amc_window whose value (uint64)
 * is the absolute input offset of the window's first sample. A window holding
 * NaN or Inf samples is output as all zeros and tagged \c amc_flag = "nonfinite";
 * a window of zero energy is output as all zeros and tagged \c amc_flag =
 * "silent". Both are counted (nonfinite_windows(), silent_windows()).
 * Upstream tags (rx_time, rx_freq, ...) keep their key, value and source id and
 * move, each exactly once, to an output vector: for hop <= window, to the vector
 * whose window starts within hop samples before the tag ([start, start + hop));
 * for hop > window, to the vector of the window that contains the tag or that
 * follows the skipped samples it sits on. Their sample-exact offset is thereby
 * rounded to the window; the amc_window tag gives the window's start.
 *
 * The first vector also carries \c amc_spec, a dict {window, representation,
 * layout, normalization}, so that a classifier can check the vectors against
 * its model.
 *
 * With \p power_tags, every unflagged vector also carries \c amc_power (double):
 * the window's power before normalization, 10 log10(mean |x|^2) in dB, which
 * amc.decision's energy gate reads.
 */
class AMC_API vectorizer : virtual public gr::block
{
public:
    typedef std::shared_ptr<vectorizer> sptr;

    /*!
     * \brief Make a vectorizer.
     *
     * \param window Window length N in samples (16 <= N <= 2^20).
     * \param hop Samples between the starts of consecutive windows (hop >= 1).
     * \param representation "iq", "amp_phase" or "mag_fft".
     * \param layout "channels_last" ((N, 2), interleaved) or "channels_first"
     *        ((2, N)); ignored by "mag_fft".
     * \param normalization "none", "l2", "rms", "peak" or "l1".
     * \param fft_size FFT length for "mag_fft"; 0 means window / fft_avg.
     * \param fft_avg Number of consecutive FFTs averaged for "mag_fft" (>= 1).
     * \param power_tags Tag every vector with its window power (amc_power, dB).
     *
     * \note Throws std::invalid_argument naming the parameter and its allowed
     * values when a parameter is out of range, and when fft_size * fft_avg differs
     * from window for "mag_fft".
     */
    static sptr make(int window,
                     int hop,
                     const std::string& representation = "iq",
                     const std::string& layout = "channels_last",
                     const std::string& normalization = "l2",
                     int fft_size = 0,
                     int fft_avg = 1,
                     bool power_tags = false);

    //! Window length N in samples.
    virtual int window() const = 0;
    //! Samples between the starts of consecutive windows.
    virtual int hop() const = 0;
    //! Floats per output vector (2N, or fft_size for "mag_fft").
    virtual int vlen() const = 0;
    //! Output vectors written so far (flagged ones included).
    virtual uint64_t windows_out() const = 0;
    //! Windows that held NaN or Inf samples (output as zeros).
    virtual uint64_t nonfinite_windows() const = 0;
    //! Windows of zero energy (output as zeros).
    virtual uint64_t silent_windows() const = 0;
    //! Whether vectors carry amc_power tags.
    virtual bool power_tags() const = 0;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_VECTORIZER_H */
