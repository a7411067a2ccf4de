/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_WINDOW_TRANSFORM_H
#define INCLUDED_AMC_WINDOW_TRANSFORM_H

#include <gnuradio/fft/fft.h>
#include <gnuradio/gr_complex.h>
#include <volk/volk_alloc.hh>
#include <memory>
#include <string>
#include <vector>

namespace gr {
namespace amc {

/*!
 * \brief The maths of the vectorizer, one window at a time, without streaming.
 *
 * Kept apart from the block so that the per-window transform has one home; the
 * numpy reference in python/amc/features.py mirrors it line for line.
 */
class window_transform
{
public:
    enum class representation { iq, amp_phase, mag_fft };
    enum class layout { channels_last, channels_first };
    enum class normalization { none, l2, rms, peak, l1 };
    //! What transform() found in a window.
    enum class verdict { ok, nonfinite, silent };

    //! Validates every parameter; throws std::invalid_argument naming the bad one.
    window_transform(int window,
                     const std::string& representation,
                     const std::string& layout,
                     const std::string& normalization,
                     int fft_size,
                     int fft_avg);

    int window() const { return d_window; }
    int vlen() const { return d_vlen; }

    /*!
     * Transforms window() samples at \p in into vlen() floats at \p out.
     * Flagged windows (nonfinite, silent) are written as zeros.
     */
    verdict transform(const gr_complex* in, float* out);

    //! Sum of |x|^2 over the last window transformed (0 when it was flagged).
    double energy() const { return d_energy; }

private:
    //! Scale factor of the normalization for a window \p x of float-normal \p energy.
    double scale_of(const gr_complex* x, double energy);
    //! Multiplies the values that scale with the samples by undo (rescaled "none").
    void restore(float* out, double undo) const;
    //! Slow path for windows whose float energy is not a normal number.
    verdict rescue(const gr_complex* in, double& energy) const;

    const int d_window;
    representation d_repr;
    layout d_layout;
    normalization d_norm;
    int d_fft_size = 0;
    int d_fft_avg = 1;
    int d_vlen = 0;
    double d_energy = 0.0;

    volk::vector<float> d_a;             // scratch: amplitude / magnitudes
    volk::vector<float> d_b;             // scratch: phase / spectrum accumulator
    volk::vector<gr_complex> d_rescaled; // scratch: a window brought to unit energy
    std::unique_ptr<gr::fft::fft_complex_fwd> d_fft;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_WINDOW_TRANSFORM_H */
