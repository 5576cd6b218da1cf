/* Only the GSL headers LinearAlgebra uses. gsl_eigen.h and gsl_matrix*.h pull in
   gsl_cblas.h, whose CBLAS enums clash with OpenBLAS's <cblas.h> in COpenBLAS. */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_poly.h>
#include <gsl/gsl_complex.h>
