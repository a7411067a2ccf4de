/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_BURST_CHANNEL_IMPL_H
#define INCLUDED_AMC_BURST_CHANNEL_IMPL_H

#include <gnuradio/amc/burst_channel.h>
#include <array>
#include <atomic>
#include <random>
#include <vector>

namespace gr {
namespace amc {

class burst_channel_impl : public burst_channel
{
public:
    static constexpr int k_interp_taps = 8; // windowed-sinc interpolator length
    static constexpr int k_phases = 128;    // fractional delays tabulated
    static constexpr int k_fir = 16;        // multipath filter length
    static constexpr int k_fir_offset = 4;  // where a path of delay 0 sits in it
    static constexpr int k_base_delay = 4;  // keeps the interpolator causal
    static constexpr int k_segment = 64;    // fading gains are updated this often
    static constexpr int k_rays = 8;        // scattered rays per path
    static constexpr int k_history = 32;

private:
    struct path_rays {
        double los_freq, los_phase;
        std::array<double, k_rays> freq, phase;
    };
    struct burst_draw {
        uint64_t index = 0, start = 0;
        double cfo = 0, phase = 0, timing = 0, sro = 0;
        std::vector<path_rays> paths;
    };

    const int d_burst_len;
    std::atomic<float> d_noise_std;
    const double d_cfo_max, d_sro_max, d_k, d_doppler;
    const bool d_fading, d_random_phase, d_random_timing;
    std::vector<double> d_delays, d_amps; // amplitudes normalised to unit power

    std::mt19937_64 d_draw_rng;
    std::mt19937_64 d_noise_rng;
    std::normal_distribution<float> d_gauss{ 0.0f, 1.0f };
    std::array<std::array<float, k_interp_taps>, k_phases + 1> d_interp;

    burst_draw d_burst;
    bool d_have_burst = false;
    std::atomic<uint64_t> d_bursts{ 0 };
    std::vector<gr_complex> d_y; // timing-interpolated input of one chunk

    void draw_burst(uint64_t index);
    //! Multipath filter taps at burst-relative time t.
    void fading_taps(double t, gr_complex* taps) const;

public:
    burst_channel_impl(int burst_len,
                       float noise_std,
                       float cfo_max,
                       float sro_max,
                       bool fading,
                       float k_factor,
                       float doppler,
                       const std::vector<float>& delays,
                       const std::vector<float>& mags,
                       bool random_phase,
                       bool random_timing,
                       uint64_t seed);

    float noise_std() const override { return d_noise_std.load(); }
    void set_noise_std(float noise_std) override;
    uint64_t bursts() const override { return d_bursts.load(); }

    int work(int noutput_items,
             gr_vector_const_void_star& input_items,
             gr_vector_void_star& output_items) override;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_BURST_CHANNEL_IMPL_H */
