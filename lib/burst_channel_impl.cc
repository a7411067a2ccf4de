/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "burst_channel_impl.h"
#include <gnuradio/io_signature.h>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gr {
namespace amc {

namespace {

void require(bool ok, const std::string& what)
{
    if (!ok) {
        throw std::invalid_argument("amc.burst_channel: " + what);
    }
}

//! sinc(u) under a Blackman window of half-width `half`.
double windowed_sinc(double u, double half)
{
    if (std::abs(u) >= half) {
        return 0.0;
    }
    const double s = u == 0.0 ? 1.0 : std::sin(M_PI * u) / (M_PI * u);
    const double w =
        0.42 + 0.5 * std::cos(M_PI * u / half) + 0.08 * std::cos(2 * M_PI * u / half);
    return s * w;
}

} // namespace

burst_channel::sptr burst_channel::make(int burst_len,
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
                                        uint64_t seed)
{
    return gnuradio::make_block_sptr<burst_channel_impl>(burst_len,
                                                         noise_std,
                                                         cfo_max,
                                                         sro_max,
                                                         fading,
                                                         k_factor,
                                                         doppler,
                                                         delays,
                                                         mags,
                                                         random_phase,
                                                         random_timing,
                                                         seed);
}

burst_channel_impl::burst_channel_impl(int burst_len,
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
                                       uint64_t seed)
    : gr::sync_block("burst_channel",
                     gr::io_signature::make(1, 1, sizeof(gr_complex)),
                     gr::io_signature::make(1, 1, sizeof(gr_complex))),
      d_burst_len(burst_len),
      d_noise_std(noise_std),
      d_cfo_max(cfo_max),
      d_sro_max(sro_max),
      d_k(k_factor),
      d_doppler(doppler),
      d_fading(fading),
      d_random_phase(random_phase),
      d_random_timing(random_timing),
      d_draw_rng(seed),
      d_noise_rng(seed ^ 0x9e3779b97f4a7c15ULL)
{
    require(burst_len >= 64, "burst_len " + std::to_string(burst_len) + " must be >= 64");
    require(noise_std >= 0.0f && std::isfinite(noise_std),
            "noise_std " + std::to_string(noise_std) + " must be finite and >= 0");
    require(cfo_max >= 0.0f && cfo_max < 0.5f,
            "cfo_max " + std::to_string(cfo_max) + " must be in [0, 0.5) cycles/sample");
    require(sro_max >= 0.0f && sro_max * burst_len <= 4.0f,
            "sro_max " + std::to_string(sro_max) +
                " must be >= 0 with sro_max * burst_len <= 4 samples of drift");
    require(k_factor >= 0.0f, "k_factor " + std::to_string(k_factor) + " must be >= 0");
    require(doppler >= 0.0f && doppler <= 0.01f,
            "doppler " + std::to_string(doppler) + " must be in [0, 0.01] cycles/sample");
    require(!delays.empty() && delays.size() == mags.size(),
            "delays and mags must be non-empty lists of the same length");
    double power = 0.0;
    for (size_t p = 0; p < delays.size(); p++) {
        require(delays[p] >= 0.0f && delays[p] <= 4.0f,
                "delays: " + std::to_string(delays[p]) + " must be in [0, 4] samples");
        require(mags[p] >= 0.0f, "mags: " + std::to_string(mags[p]) + " must be >= 0");
        power += double(mags[p]) * mags[p];
    }
    require(power > 0.0, "mags must not all be zero");
    for (size_t p = 0; p < delays.size(); p++) {
        d_delays.push_back(delays[p]);
        d_amps.push_back(mags[p] / std::sqrt(power));
    }

    // Interpolator taps for fractional delays f = phase / k_phases, unit DC gain.
    for (int ph = 0; ph <= k_phases; ph++) {
        const double f = double(ph) / k_phases;
        double sum = 0.0;
        for (int r = 0; r < k_interp_taps; r++) {
            sum += windowed_sinc(r - 3 + f, k_interp_taps / 2.0);
        }
        for (int r = 0; r < k_interp_taps; r++) {
            d_interp[ph][r] =
                static_cast<float>(windowed_sinc(r - 3 + f, k_interp_taps / 2.0) / sum);
        }
    }
    set_history(k_history);
    // The burst tags are this block's own; upstream tags pass at their offsets.
    set_tag_propagation_policy(TPP_ONE_TO_ONE);
}

void burst_channel_impl::set_noise_std(float noise_std)
{
    require(noise_std >= 0.0f && std::isfinite(noise_std),
            "noise_std " + std::to_string(noise_std) + " must be finite and >= 0");
    d_noise_std.store(noise_std);
}

void burst_channel_impl::draw_burst(uint64_t index)
{
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto sym = [&](double max) { return max * (2.0 * unit(d_draw_rng) - 1.0); };
    d_burst.index = index;
    d_burst.start = index * d_burst_len;
    // Every draw happens whatever the options, so that changing one option leaves
    // the others' realisations as they were.
    const double phase = 2 * M_PI * unit(d_draw_rng);
    const double timing = unit(d_draw_rng);
    d_burst.cfo = sym(d_cfo_max);
    d_burst.sro = sym(d_sro_max);
    d_burst.phase = d_random_phase ? phase : 0.0;
    d_burst.timing = d_random_timing ? timing : 0.0;
    d_burst.paths.resize(d_delays.size());
    for (auto& p : d_burst.paths) {
        p.los_freq = d_doppler * std::cos(2 * M_PI * unit(d_draw_rng));
        p.los_phase = 2 * M_PI * unit(d_draw_rng);
        for (int n = 0; n < k_rays; n++) {
            p.freq[n] = d_doppler * std::cos(2 * M_PI * unit(d_draw_rng));
            p.phase[n] = 2 * M_PI * unit(d_draw_rng);
        }
    }
    d_have_burst = true;
    d_bursts.store(index + 1);

    d_logger->trace("burst {:d} at sample {:d}: cfo {:.3g}, sro {:.3g}, phase {:.3f}, "
                    "timing {:.3f}",
                    index,
                    d_burst.start,
                    d_burst.cfo,
                    d_burst.sro,
                    d_burst.phase,
                    d_burst.timing);
    // PMT symbols interned once (a burst every few thousand samples)
    static const pmt::pmt_t index_key = pmt::mp("index"), cfo_key = pmt::mp("cfo"),
                            phase_key = pmt::mp("phase"), timing_key = pmt::mp("timing"),
                            sro_key = pmt::mp("sro"), burst_key = pmt::mp("amc_burst");
    pmt::pmt_t info = pmt::make_dict();
    info = pmt::dict_add(info, index_key, pmt::from_uint64(index));
    info = pmt::dict_add(info, cfo_key, pmt::from_double(d_burst.cfo));
    info = pmt::dict_add(info, phase_key, pmt::from_double(d_burst.phase));
    info = pmt::dict_add(info, timing_key, pmt::from_double(d_burst.timing));
    info = pmt::dict_add(info, sro_key, pmt::from_double(d_burst.sro));
    add_item_tag(0, d_burst.start, burst_key, info, alias_pmt());
}

void burst_channel_impl::fading_taps(double t, gr_complex* taps) const
{
    std::fill(taps, taps + k_fir, gr_complex(0.0f, 0.0f));
    const double los = std::sqrt(d_k / (d_k + 1.0));
    const double diffuse = std::sqrt(1.0 / ((d_k + 1.0) * k_rays));
    for (size_t p = 0; p < d_delays.size(); p++) {
        const auto& r = d_burst.paths[p];
        std::complex<double> g =
            los * std::polar(1.0, 2 * M_PI * r.los_freq * t + r.los_phase);
        for (int n = 0; n < k_rays; n++) {
            g += diffuse * std::polar(1.0, 2 * M_PI * r.freq[n] * t + r.phase[n]);
        }
        g *= d_amps[p];
        for (int n = 0; n < k_fir; n++) {
            const double w = windowed_sinc(n - k_fir_offset - d_delays[p], 4.0);
            taps[n] += gr_complex(static_cast<float>(g.real() * w),
                                  static_cast<float>(g.imag() * w));
        }
    }
}

int burst_channel_impl::work(int noutput_items,
                             gr_vector_const_void_star& input_items,
                             gr_vector_void_star& output_items)
{
    // x(j) = in[j + k_history - 1] is the input aligned with output j of this call.
    const auto* in = static_cast<const gr_complex*>(input_items[0]) + (k_history - 1);
    auto* out = static_cast<gr_complex*>(output_items[0]);
    const uint64_t first = nitems_written(0);
    const float sigma = d_noise_std.load() / std::sqrt(2.0f);
    d_y.resize(k_segment + k_fir);

    int k = 0;
    while (k < noutput_items) {
        const uint64_t a = first + k;
        const uint64_t index = a / d_burst_len;
        if (!d_have_burst || index != d_burst.index) {
            draw_burst(index);
        }
        const int64_t t = static_cast<int64_t>(a - d_burst.start);
        const int64_t seg = t / k_segment * k_segment;
        const int n = static_cast<int>(std::min<int64_t>(
            { noutput_items - k, seg + k_segment - t, d_burst_len - t }));

        // Timing: y(j) = x(j - delay(j)), delay = base + timing + sro * t(j).
        const int span = d_fading ? k_fir - 1 : k_fir_offset;
        for (int i = 0; i < n + span; i++) {
            const int j = k - span + i;
            const double delay =
                k_base_delay + d_burst.timing + d_burst.sro * (t - span + i);
            const int m = static_cast<int>(std::floor(delay));
            const int ph = static_cast<int>(std::lround((delay - m) * k_phases));
            const auto& c = d_interp[ph];
            gr_complex acc(0.0f, 0.0f);
            const gr_complex* x = in + j - m - 3;
            for (int r = 0; r < k_interp_taps; r++) {
                acc += c[r] * x[r];
            }
            d_y[i] = acc;
        }
        // Multipath: gains interpolated linearly across the segment.
        gr_complex h0[k_fir], h1[k_fir];
        if (d_fading) {
            fading_taps(static_cast<double>(seg), h0);
            fading_taps(static_cast<double>(seg + k_segment), h1);
            for (int q = 0; q < k_fir; q++) {
                h1[q] -= h0[q];
            }
        }
        // Carrier: exact phasor at the chunk start, stepped within it.
        std::complex<double> rot =
            std::polar(1.0, d_burst.phase + 2 * M_PI * d_burst.cfo * t);
        const std::complex<double> step = std::polar(1.0, 2 * M_PI * d_burst.cfo);
        for (int i = 0; i < n; i++) {
            gr_complex v;
            if (d_fading) {
                gr_complex s0(0.0f, 0.0f), s1(0.0f, 0.0f);
                for (int q = 0; q < k_fir; q++) {
                    const gr_complex y = d_y[span + i - q];
                    s0 += h0[q] * y;
                    s1 += h1[q] * y;
                }
                v = s0 + (static_cast<float>(t + i - seg) / k_segment) * s1;
            } else {
                v = d_y[span + i - k_fir_offset];
            }
            v *= gr_complex(static_cast<float>(rot.real()),
                            static_cast<float>(rot.imag()));
            rot *= step;
            if (sigma > 0.0f) {
                const float nr = d_gauss(d_noise_rng);
                const float ni = d_gauss(d_noise_rng);
                v += gr_complex(sigma * nr, sigma * ni);
            }
            out[k + i] = v;
        }
        k += n;
    }
    return noutput_items;
}

} // namespace amc
} // namespace gr
