# A Python 3 function: JSON in (a dict), JSON out (a dict). riff calls the function named after
# the file; pass --handler to call another one. print() goes to `riff logs -n py-greeter`.
def greet(person):
    print("greeting", person.get("name"))
    return {"greeting": "Hello %s!" % person.get("name", "stranger"), "language": "python"}
