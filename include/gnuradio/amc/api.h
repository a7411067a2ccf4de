/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef INCLUDED_AMC_API_H
#define INCLUDED_AMC_API_H

#include <gnuradio/attributes.h>

#ifdef gnuradio_amc_EXPORTS
#define AMC_API __GR_ATTR_EXPORT
#else
#define AMC_API __GR_ATTR_IMPORT
#endif

#endif /* INCLUDED_AMC_API_H */
