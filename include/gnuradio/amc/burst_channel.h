/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_BURST_CHANNEL_H
#define INCLUDED_AMC_BURST_CHANNEL_H

#include <gnuradio/amc/api.h>
#include <gnuradio/sync_block.h>
#include <cstdint>
#include <vector>

namespace gr {
namespace amc {

/*!
 * \brief A radio channel whose impairments are drawn afresh for every burst of
 * \p burst_len samples: timing, carrier phase and frequency offset, sample-rate
 * offset, Rician multipath fading, then additive white Gaussian noise.
 * \ingroup amc
 *
 * \details
 * Modelled on the channel of the RML2016 generator (channels.dynamic_channel_model
 * with 3-path Rician fading), but every burst gets an independent realisation from
 * one seeded generator, so a dataset holds many channels instead of one, and the
 * same seed reproduces the same samples.
 *
 * At the start of each burst the block draws:
 * - a timing offset uniform in [0, 1) samples (when \p random_timing), and a
 *   sample-rate offset uniform in [-sro_max, sro_max], applied as a delay that
 *   grows linearly over the burst (8-tap windowed-sinc interpolation);
 * - a carrier phase uniform in [0, 2 pi) (when \p random_phase) and a frequency
 *   offset uniform in [-cfo_max, cfo_max] cycles/sample;
 * - when \p fading: for each path of the power-delay profile (\p delays in samples,
 *   \p mags in amplitude, normalised to unit total power), a Rician gain with
 *   K-factor \p k_factor made of a line-of-sight ray and 8 scattered rays of maximum
 *   Doppler \p doppler cycles/sample (sum of sinusoids, updated every 64 samples).
 *
 * Complex Gaussian noise of standard deviation \p noise_std (E|n|^2 = noise_std^2)
 * is added last. A burst starts every burst_len output samples from the first; its
 * first output sample carries the tag \c amc_burst with a dict of what was drawn
 * (index, cfo, phase, timing, sro). The first few samples of a burst mix the
 * previous burst's samples into the filters; skip about 16 samples.
 *
 * \note Throws std::invalid_argument naming the parameter when one is out of range.
 */
class AMC_API burst_channel : virtual public gr::sync_block
{
public:
    typedef std::shared_ptr<burst_channel> sptr;

    /*!
     * \param burst_len samples per burst (>= 64).
     * \param noise_std standard deviation of the complex noise (>= 0).
     * \param cfo_max largest carrier frequency offset in cycles/sample ([0, 0.5)).
     * \param sro_max largest sample-rate offset as a fraction (sro_max * burst_len <= 4).
     * \param fading whether to apply Rician multipath fading.
     * \param k_factor Rician K-factor (>= 0; 0 is Rayleigh).
     * \param doppler maximum Doppler frequency in cycles/sample ([0, 0.01]).
     * \param delays path delays in samples ([0, 4] each).
     * \param mags path amplitudes (>= 0, one per delay, not all zero).
     * \param random_phase draw a carrier phase per burst.
     * \param random_timing draw a fractional timing offset per burst.
     * \param seed seed of every random draw.
     */
    static sptr make(int burst_len,
                     float noise_std = 0.0f,
                     float cfo_max = 0.0f,
                     float sro_max = 0.0f,
                     bool fading = false,
                     float k_factor = 4.0f,
                     float doppler = 0.0f,
                     const std::vector<float>& delays = { 0.0f },
                     const std::vector<float>& mags = { 1.0f },
                     bool random_phase = true,
                     bool random_timing = true,
                     uint64_t seed = 0);

    //! Standard deviation of the complex noise (settable while running).
    virtual float noise_std() const = 0;
    virtual void set_noise_std(float noise_std) = 0;
    //! Bursts started so far.
    virtual uint64_t bursts() const = 0;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_BURST_CHANNEL_H */
