/* The patch image of the loader simulation (tests/e2e_wine.rs): a new version of `bump`,
 * compiled with `bump` hot-patched, so its access to `counter` goes through `__ref_counter`,
 * a pointer in read-only .rdata. Linked as a DLL with /noentry and `__ref_counter` exported as
 * data, which is how the base program finds the pointer it has to redirect. */

int counter; /* the patch's own copy: used until the pointer is redirected */

__declspec(dllexport) int bump(void)
{
    return ++counter;
}
