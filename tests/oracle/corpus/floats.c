/* Floating point: soft-float helpers on the embedded targets. */
extern double fw_sqrt(double x);
extern float fw_sinf(float x);

static const double coeffs[] = {1.0, 0.5, 0.25, 0.125, 1.0 / 3.0, 3.14159265358979};
float g_gain = 1.5f;
double g_acc;

double fl_poly(double x)
{
    double r = 0;
    for (int i = 5; i >= 0; i--)
        r = r * x + coeffs[i];
    return r;
}

float fl_mix(float a, float b, int i)
{
    float m = a * g_gain + b / 3.0f + (float)i;
    g_acc += m;
    return fw_sinf(m) + (float)fw_sqrt((double)b);
}

int fl_to_int(double d) { return (int)(d * 1000.0); }
double fl_from(long v) { return (double)v * 0.001; }
