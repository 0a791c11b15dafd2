"""upload_devices lines of bench/: N dual-SIM devices of application 1,
IMEIs 86000000000000x with their Luhn digit (argv[1] = N)."""
import sys


def luhn(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


out = sys.stdout
out.write("application_id,model,imei_1,imei_2,imei_3,imei_4\n")
for i in range(int(sys.argv[1])):
    out.write("1,Phone,%s,%s,,\n" % (luhn("86%012d" % (2 * i)), luhn("86%012d" % (2 * i + 1))))
