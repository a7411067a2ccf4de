/* -*- c++ -*- */
/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_CHANNEL_DETECTOR_H
#define INCLUDED_AMC_CHANNEL_DETECTOR_H

#include <gnuradio/amc/api.h>
#include <gnuradio/sync_block.h>
#include <cstdint>

namespace gr {
namespace amc {

/*!
 * \brief Finds the signals of a wideband stream and follows them as they come and go:
 * a message when one starts or ends, and a periodic list.
 * \ingroup amc
 *
 * \details
 * Every \p average FFTs of \p fft_size samples (Hann window, no overlap; GNU Radio's fft,
 * VOLK) make one frame: the averaged power spectrum. Its noise floor is a low quantile
 * of the bins (the \p floor_quantile, 0.2 by default, divided by that quantile of noise
 * alone), so that channels occupying up to most of the band do not bias it, smoothed over
 * frames. Bins more than \p threshold_db above the floor are occupied (\p
 * threshold_db - \p hysteresis_db within a signal already tracked); runs of them with
 * gaps of at most \p gap_bins are one signal, if at least \p min_bandwidth wide. A
 * signal's edges are where its spectrum falls 3 dB below its in-band level (the 75th
 * percentile of its bins), interpolated between bins; its centre the middle of them.
 *
 * Signals are tracked across frames by overlap and keep an id. One seen for \p
 * min_duration seconds is announced (\c start); one not seen for \p hold seconds ends
 * (\c end): bursts come and go as their own signals. Messages on the port \c signals
 * are dicts: event (start, end, or list every \p report_interval seconds with the
 * signals now active in signals), id, center_hz (absolute: \p center_freq, or the last
 * \c rx_freq tag), bandwidth_hz (-3 dB), occupied_hz (the run over the threshold in
 * its last frame), power_db (dB of the excess power, full scale 0 dB),
 * snr_db (in-band level over the noise floor), first_seen / last_seen (seconds from
 * the start), first_sample / last_sample.
 *
 * \note Throws std::invalid_argument naming the parameter when one is out of range.
 */
class AMC_API channel_detector : virtual public gr::sync_block
{
public:
    typedef std::shared_ptr<channel_detector> sptr;

    /*!
     * \param samp_rate Hz (> 0).
     * \param center_freq Hz, of the stream's centre (rx_freq tags override it).
     * \param fft_size bins (64 .. 65536, a power of two).
     * \param average FFTs per frame (>= 1).
     * \param threshold_db occupied: this far over the noise floor (> 0).
     * \param hysteresis_db a tracked signal stays until threshold_db - this (>= 0, <
     *        threshold_db).
     * \param min_bandwidth Hz; narrower runs are left (0: 3 bins).
     * \param min_duration seconds a signal is seen before it is announced (>= 0).
     * \param hold seconds a signal may be unseen before it ends (>= 0).
     * \param gap_bins occupied runs this close are one signal (>= 0).
     * \param report_interval seconds between lists (0: no list).
     * \param floor_quantile the quantile of the bins the noise floor comes from (0.05
     *        .. 0.5).
     */
    static sptr make(double samp_rate,
                     double center_freq = 0.0,
                     int fft_size = 4096,
                     int average = 8,
                     double threshold_db = 6.0,
                     double hysteresis_db = 2.0,
                     double min_bandwidth = 0.0,
                     double min_duration = 0.02,
                     double hold = 0.05,
                     int gap_bins = 2,
                     double report_interval = 1.0,
                     double floor_quantile = 0.2);

    //! Frames analysed since the start.
    virtual uint64_t frames() const = 0;
    //! The noise floor now, dB per bin (full scale 0 dB).
    virtual double noise_floor_db() const = 0;
    //! Signals announced since the start.
    virtual uint64_t signals_found() const = 0;
    //! Signals active now.
    virtual int active() const = 0;
    //! The signals active now (after the stream ends: those it ended with), as the
    //! dicts of the messages, in a PMT vector.
    virtual pmt::pmt_t tracked() const = 0;
};

} // namespace amc
} // namespace gr

#endif /* INCLUDED_AMC_CHANNEL_DETECTOR_H */
