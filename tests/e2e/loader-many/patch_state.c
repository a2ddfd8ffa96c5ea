/* The patch image's own copies of the globals its two files share (tests/it/e2e_wine.rs, loader
 * simulation of a program of several files): used until the loader redirects the pointers. */
int counter;
int total;
