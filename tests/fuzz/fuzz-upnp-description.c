/* fuzz-upnp-description.c: a router's device description, untrusted XML from the LAN
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>

#include "net/ph-upnp.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  PhUpnpDeviceInfo *info = ph_upnp_device_info_parse ((const char *) data, size,
                                                      "http://192.168.1.1:5000/rootDesc.xml");

  g_clear_pointer (&info, ph_upnp_device_info_free);
  return 0;
}
