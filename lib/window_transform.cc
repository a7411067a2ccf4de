/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "window_transform.h"
#include <volk/volk.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace gr {
namespace amc {

namespace {

// One table per string parameter: the names users type, in the order the
// error message lists them.
template <typename E, size_t K>
E parse(const char* param,
        const std::string& value,
        const std::pair<const char*, E> (&table)[K])
{
    std::string allowed;
    for (const auto& [name, e] : table) {
        if (value == name) {
            return e;
        }
        allowed += (allowed.empty() ? "" : ", ") + std::string(name);
    }
    throw std::invalid_argument("amc.vectorizer: " + std::string(param) + " '" + value +
                                "' is not one of: " + allowed);
}

using repr_t = window_transform::representation;
using layout_t = window_transform::layout;
using norm_t = window_transform::normalization;

const std::pair<const char*, repr_t> k_representations[] = {
    { "iq", repr_t::iq },
    { "amp_phase", repr_t::amp_phase },
    { "mag_fft", repr_t::mag_fft }
};
const std::pair<const char*, layout_t> k_layouts[] = {
    { "channels_last", layout_t::channels_last },
    { "channels_first", layout_t::channels_first }
};
const std::pair<const char*, norm_t> k_normalizations[] = { { "none", norm_t::none },
                                                            { "l2", norm_t::l2 },
                                                            { "rms", norm_t::rms },
                                                            { "peak", norm_t::peak },
                                                            { "l1", norm_t::l1 } };

constexpr int k_min_window = 16;
// 2^20 samples: an 8 MB output vector, far beyond any model's input.
constexpr int k_max_window = 1 << 20;
// Window energies the float path handles: away from float's under- and overflow,
// where squares lose precision (subnormals) or sums saturate.
constexpr double k_min_energy = 0x1p-100;
constexpr double k_max_energy = 0x1p100;

// Float reductions over a whole window lose digits as the window grows (VOLK's
// generic kernels sum sequentially): sums of chunks of this many floats are
// added in double, which keeps every window length within 1e-5 of the reference.
constexpr int k_chunk = 256;

//! sum of f[i]^2 over n floats
double sum_of_squares(const float* f, int n)
{
    double total = 0.0;
    for (int i = 0; i < n; i += k_chunk) {
        float part;
        volk_32f_x2_dot_prod_32f(&part, f + i, f + i, std::min(k_chunk, n - i));
        total += part;
    }
    return total;
}

//! sum of f[i] over n floats
double sum_of(const float* f, int n)
{
    double total = 0.0;
    for (int i = 0; i < n; i += k_chunk) {
        float part;
        volk_32f_accumulator_s32f(&part, f + i, std::min(k_chunk, n - i));
        total += part;
    }
    return total;
}

} // namespace

window_transform::window_transform(int window,
                                   const std::string& representation,
                                   const std::string& layout,
                                   const std::string& normalization,
                                   int fft_size,
                                   int fft_avg)
    : d_window(window),
      d_repr(parse("representation", representation, k_representations)),
      d_layout(parse("layout", layout, k_layouts)),
      d_norm(parse("normalization", normalization, k_normalizations))
{
    if (window < k_min_window) {
        throw std::invalid_argument(
            "amc.vectorizer: window " + std::to_string(window) +
            " is too short; window must be >= " + std::to_string(k_min_window));
    }
    if (window > k_max_window) {
        throw std::invalid_argument(
            "amc.vectorizer: window " + std::to_string(window) +
            " is too long; window must be <= " + std::to_string(k_max_window));
    }
    d_a.resize(window);
    d_b.resize(window);
    d_rescaled.resize(window);
    if (d_repr != repr_t::mag_fft) {
        d_vlen = 2 * window;
        return;
    }
    if (fft_avg < 1) {
        throw std::invalid_argument("amc.vectorizer: fft_avg " + std::to_string(fft_avg) +
                                    " must be >= 1");
    }
    if (fft_size == 0 && window % fft_avg == 0) {
        fft_size = window / fft_avg;
    }
    if (fft_size < 1 || static_cast<long>(fft_size) * fft_avg != window) {
        throw std::invalid_argument(
            "amc.vectorizer: fft_size " + std::to_string(fft_size) + " with fft_avg " +
            std::to_string(fft_avg) + " does not fit window " + std::to_string(window) +
            "; fft_size * fft_avg must equal window (fft_size 0 means window / fft_avg)");
    }
    d_fft_size = fft_size;
    d_fft_avg = fft_avg;
    d_vlen = fft_size;
    d_fft = std::make_unique<gr::fft::fft_complex_fwd>(fft_size, 1);
}

window_transform::verdict window_transform::rescue(const gr_complex* in,
                                                   double& energy) const
{
    energy = 0.0;
    for (int i = 0; i < d_window; i++) {
        const double re = in[i].real(), im = in[i].imag();
        if (!std::isfinite(re) || !std::isfinite(im)) {
            return verdict::nonfinite;
        }
        energy += re * re + im * im;
    }
    return energy > 0.0 ? verdict::ok : verdict::silent;
}

double window_transform::scale_of(const gr_complex* x, double energy)
{
    const int n = d_window;
    switch (d_norm) {
    case norm_t::none:
        return 1.0;
    case norm_t::l2:
        return 1.0 / std::sqrt(energy);
    case norm_t::rms:
        return std::sqrt(n / energy);
    case norm_t::peak: {
        uint32_t idx = 0;
        // VOLK 2.5 declares this source non-const; it only reads it.
        volk_32fc_index_max_32u(&idx, const_cast<gr_complex*>(x), n);
        return 1.0 / std::abs(x[idx]);
    }
    case norm_t::l1:
        volk_32fc_magnitude_32f(d_a.data(), x, n);
        return 1.0 / sum_of(d_a.data(), n);
    }
    return 1.0;
}

window_transform::verdict window_transform::transform(const gr_complex* in, float* out)
{
    const int n = d_window;
    const gr_complex* x = in;
    // Sum of I^2 + Q^2 over the window; NaN and Inf propagate into it, so one
    // pass both measures the energy and screens the window.
    double energy = sum_of_squares(reinterpret_cast<const float*>(in), 2 * n);
    d_energy = 0.0;
    double undo = 1.0; // factor that restores the input's scale for "none"
    if (!(energy >= k_min_energy && energy <= k_max_energy)) {
        // Zero, tiny, huge or poisoned: decide in double precision.
        const verdict v = rescue(in, energy);
        if (v != verdict::ok) {
            std::fill(out, out + d_vlen, 0.0f);
            return v;
        }
        d_energy = energy;
        // Scale by a power of two (exact) to about unit energy, so that the
        // float arithmetic below neither overflows nor underflows. The factor
        // itself can lie outside float's range (2^149 for a lone subnormal), so
        // each sample is scaled in double.
        int exp2;
        std::frexp(std::sqrt(energy), &exp2);
        for (int i = 0; i < n; i++) {
            d_rescaled[i] = gr_complex(
                static_cast<float>(std::ldexp(static_cast<double>(in[i].real()), -exp2)),
                static_cast<float>(std::ldexp(static_cast<double>(in[i].imag()), -exp2)));
        }
        x = d_rescaled.data();
        undo = std::ldexp(1.0, exp2);
        energy = sum_of_squares(reinterpret_cast<const float*>(x), 2 * n);
    }
    const bool rescued = x != in;
    if (x == in) {
        d_energy = energy;
    }
    // With "none" a rescaled window gets its scale back after the transform, in
    // double (undo can lie outside float's range): see restore() below.
    const float scale = static_cast<float>(scale_of(x, energy));

    switch (d_repr) {
    case repr_t::iq:
        if (d_layout == layout_t::channels_last) {
            // (N, 2) is the complex array's own memory layout.
            volk_32f_s32f_multiply_32f(
                out, reinterpret_cast<const float*>(x), scale, 2 * n);
        } else {
            volk_32fc_deinterleave_32f_x2(out, out + n, x, n);
            volk_32f_s32f_multiply_32f(out, out, scale, 2 * n);
        }
        break;

    case repr_t::amp_phase: {
        // |s x| = s |x|: the amplitude takes the window's normalization (l2 is 004's
        // choice); the phase does not depend on it.
        volk_32fc_magnitude_32f(d_a.data(), x, n);
        volk_32f_s32f_multiply_32f(d_a.data(), d_a.data(), scale, n);
        volk_32fc_s32f_atan2_32f(d_b.data(), x, static_cast<float>(M_PI), n);
        if (d_layout == layout_t::channels_last) {
            volk_32f_x2_interleave_32fc(
                reinterpret_cast<lv_32fc_t*>(out), d_a.data(), d_b.data(), n);
        } else {
            std::memcpy(out, d_a.data(), n * sizeof(float));
            std::memcpy(out + n, d_b.data(), n * sizeof(float));
        }
        break;
    }

    case repr_t::mag_fft: {
        // |FFT(s x)| = s |FFT(x)|: transform the raw samples, scale once at the end.
        const int f = d_fft_size;
        std::fill(d_b.begin(), d_b.begin() + f, 0.0f);
        for (int m = 0; m < d_fft_avg; m++) {
            std::memcpy(d_fft->get_inbuf(), x + m * f, f * sizeof(gr_complex));
            d_fft->execute();
            volk_32fc_magnitude_32f(d_a.data(), d_fft->get_outbuf(), f);
            volk_32f_x2_add_32f(d_b.data(), d_b.data(), d_a.data(), f);
        }
        const float s = scale / d_fft_avg;
        // fftshift: DC moves to index f / 2, as numpy.fft.fftshift puts it.
        const int half = f / 2;
        for (int k = 0; k < f; k++) {
            out[k] = s * d_b[(k - half + f) % f];
        }
        break;
    }
    }
    if (rescued && d_norm == norm_t::none) {
        restore(out, undo);
    }
    if (rescued &&
        !std::all_of(out, out + d_vlen, [](float v) { return std::isfinite(v); })) {
        // finite samples whose vector leaves float's range (normalization "none")
        std::fill(out, out + d_vlen, 0.0f);
        return verdict::nonfinite;
    }
    return verdict::ok;
}

void window_transform::restore(float* out, double undo) const
{
    // The values that scale with the samples: all but amp_phase's phases.
    auto times = [undo](float v) { return static_cast<float>(v * undo); };
    if (d_repr != repr_t::amp_phase) {
        std::transform(out, out + d_vlen, out, times);
    } else if (d_layout == layout_t::channels_first) {
        std::transform(out, out + d_window, out, times);
    } else {
        for (int i = 0; i < d_window; i++) {
            out[2 * i] = times(out[2 * i]);
        }
    }
}

} // namespace amc
} // namespace gr
