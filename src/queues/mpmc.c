/* The library's bounded MPMC queue (contend/mpmc.h): the code is in mpmc_impl.h, instantiated
 * here once with the public names and no hooks (see mpmc_impl.h for why it is a header). */
#include "mpmc_impl.h"
