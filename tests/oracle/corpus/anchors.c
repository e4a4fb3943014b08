/* Section anchors: with more than 16 KiB of small static objects, GCC (at
 * -O2 on RISC-V) addresses them from anchor symbols every 4 KiB, and the last
 * anchor may lie past the end of .data: its value is only arithmetic for
 * %hi/%lo, never a place the loader reads or writes. */
extern int fw_add3(int a, int b, int c);

#define OBJ(n) static int obj##n[62] = {n};
OBJ(0) OBJ(1) OBJ(2) OBJ(3) OBJ(4) OBJ(5) OBJ(6) OBJ(7) OBJ(8) OBJ(9) OBJ(10) OBJ(11) OBJ(12) OBJ(13) OBJ(14) OBJ(15) OBJ(16) OBJ(17) OBJ(18) OBJ(19) OBJ(20) OBJ(21) OBJ(22) OBJ(23) OBJ(24) OBJ(25) OBJ(26) OBJ(27) OBJ(28) OBJ(29) OBJ(30) OBJ(31) OBJ(32) OBJ(33) OBJ(34) OBJ(35) OBJ(36) OBJ(37) OBJ(38) OBJ(39) OBJ(40) OBJ(41) OBJ(42) OBJ(43) OBJ(44) OBJ(45) OBJ(46) OBJ(47) OBJ(48) OBJ(49) OBJ(50) OBJ(51) OBJ(52) OBJ(53) OBJ(54) OBJ(55) OBJ(56) OBJ(57) OBJ(58) OBJ(59) OBJ(60) OBJ(61) OBJ(62) OBJ(63)

int an_sum(int i)
{
    int k = i & 31, s = 0;
    s += obj0[k]++ + obj1[k]++ + obj2[k]++ + obj3[k]++ + obj4[k]++ + obj5[k]++ + obj6[k]++ + obj7[k]++;
    s += obj8[k]++ + obj9[k]++ + obj10[k]++ + obj11[k]++ + obj12[k]++ + obj13[k]++ + obj14[k]++ + obj15[k]++;
    s += obj16[k]++ + obj17[k]++ + obj18[k]++ + obj19[k]++ + obj20[k]++ + obj21[k]++ + obj22[k]++ + obj23[k]++;
    s += obj24[k]++ + obj25[k]++ + obj26[k]++ + obj27[k]++ + obj28[k]++ + obj29[k]++ + obj30[k]++ + obj31[k]++;
    s += obj32[k]++ + obj33[k]++ + obj34[k]++ + obj35[k]++ + obj36[k]++ + obj37[k]++ + obj38[k]++ + obj39[k]++;
    s += obj40[k]++ + obj41[k]++ + obj42[k]++ + obj43[k]++ + obj44[k]++ + obj45[k]++ + obj46[k]++ + obj47[k]++;
    s += obj48[k]++ + obj49[k]++ + obj50[k]++ + obj51[k]++ + obj52[k]++ + obj53[k]++ + obj54[k]++ + obj55[k]++;
    s += obj56[k]++ + obj57[k]++ + obj58[k]++ + obj59[k]++ + obj60[k]++ + obj61[k]++ + obj62[k]++ + obj63[k]++;
    return fw_add3(s, obj0[0], obj63[k]);
}
