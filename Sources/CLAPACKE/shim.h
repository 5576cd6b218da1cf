#include <lapacke.h>
/* lapack_int is a macro, which Swift does not import; name it with a typedef. */
typedef lapack_int clapacke_int;
