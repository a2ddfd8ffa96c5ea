/* The base image's globals, the ones the patch must end up using. */
int counter;
int total;
